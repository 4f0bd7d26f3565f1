package dev.rg.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.Map;

/**
 * OpenAI's {@code logit_bias}: a value in [-100, 100] added to the logit of each listed token id before a token is
 * drawn (-100 in effect bans a token, +100 all but forces it).
 *
 * @param ids    token ids, each at most once
 * @param values their biases
 */
record LogitBias(int[] ids, float[] values) {
    static final LogitBias NONE = new LogitBias(new int[0], new float[0]);
    static final float LIMIT = 100f;

    boolean isEmpty() {
        return ids.length == 0;
    }

    /** Adds the biases to the row {@code logits[offset ..]}. */
    void addTo(float[] logits, int offset) {
        for (int i = 0; i < ids.length; i++) {
            logits[offset + ids[i]] += values[i];
        }
    }

    /**
     * Reads {@code {"token id": bias, ...}}.
     *
     * @throws ApiException (400, param {@code logit_bias}) naming the key or value that is wrong
     */
    static LogitBias parse(JsonNode node, int vocabSize) {
        if (node == null || node.isNull()) {
            return NONE;
        }
        if (!node.isObject()) {
            throw bad("'logit_bias' must be an object mapping token ids to biases in [-100, 100]");
        }
        int[] ids = new int[node.size()];
        float[] values = new float[node.size()];
        int n = 0;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            int id;
            try {
                id = Integer.parseInt(e.getKey().strip());
            } catch (NumberFormatException x) {
                throw bad("logit_bias key '" + abbreviate(e.getKey()) + "' is not a token id");
            }
            if (id < 0 || id >= vocabSize) {
                throw bad("logit_bias key " + id + " is not a token id in [0, " + vocabSize + ")");
            }
            JsonNode v = e.getValue();
            if (!v.isNumber() || !(Math.abs(v.asDouble()) <= LIMIT)) {
                throw bad("logit_bias[" + id + "] must be a number in [-100, 100], got " + abbreviate(v.toString()));
            }
            ids[n] = id;
            values[n] = (float) v.asDouble();
            n++;
        }
        return n == 0 ? NONE : new LogitBias(Arrays.copyOf(ids, n), Arrays.copyOf(values, n));
    }

    private static ApiException bad(String message) {
        return ApiException.badRequest("logit_bias", message);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
