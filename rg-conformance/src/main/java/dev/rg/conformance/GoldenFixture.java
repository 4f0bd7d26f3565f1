package dev.rg.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * One model fixture of {@code shared/fixtures/model}: the prompt(s) and the goldens of one window semantics.
 * Single-sequence fixtures carry DeepMind goldens (normative); {@code batch2} carries only HF/clean-window
 * goldens, which coincide with DeepMind semantics for the prefill and for decode positions &lt; W-1
 * ({@link #comparableDecodeSteps}).
 *
 * @param name          directory name
 * @param dir           the model directory
 * @param inputIds      prompts, [batch][L]
 * @param semantics     which golden block was read
 * @param generatedIds  greedy ids, [batch][N]
 * @param prefillLogits [batch][L][V] flattened per sequence
 * @param decodeLogits  [batch][N][V] flattened per sequence
 * @param layerOutputs  [layers][L][H] flattened, or null (batch fixtures)
 * @param nextToken     argmax of the last decode row, or -1 if absent
 * @param comparableDecodeSteps decode steps whose goldens hold under DeepMind semantics
 */
public record GoldenFixture(String name, Path dir, int[][] inputIds, String semantics, int[][] generatedIds,
        float[][] prefillLogits, float[][] decodeLogits, float[] layerOutputs, int nextToken, int comparableDecodeSteps) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads {@code dir/golden.json}. */
    public static GoldenFixture read(Path dir, int window) {
        JsonNode root;
        try {
            root = JSON.readTree(dir.resolve("golden.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve("golden.json"), e);
        }
        JsonNode ids = root.get("input_ids");
        boolean batched = ids.get(0).isArray() && ids.size() > 1;
        String sem;
        JsonNode g;
        if (root.has("deepmind_dequant_f32")) {
            // bitsandbytes fixtures: DeepMind semantics on the exactly dequantised f32 weights
            sem = "deepmind";
            g = root.get("deepmind_dequant_f32");
        } else {
            JsonNode sems = root.get("semantics");
            sem = sems.has("deepmind") ? "deepmind" : "hf";
            g = sems.get(sem);
        }
        int[][] input = batched ? ints2(ids) : new int[][] {ints(ids.get(0).isArray() ? ids.get(0) : ids)};
        int[][] gen = batched ? ints2(g.get("generated_ids")) : new int[][] {ints(g.get("generated_ids"))};
        float[][] pre = batched ? floats2(g.get("prefill_logits")) : new float[][] {floats(g.get("prefill_logits"))};
        float[][] dec = batched ? floats2(g.get("decode_logits")) : new float[][] {floats(g.get("decode_logits"))};
        float[] layers = g.has("prefill_layer_outputs") && !batched ? floats(g.get("prefill_layer_outputs")) : null;
        int next = g.has("next_token_after_last_step") ? g.get("next_token_after_last_step").asInt() : -1;
        int steps = gen[0].length;
        if (!sem.equals("deepmind")) {
            // HF == DeepMind for decode positions < W-1 (spec §6.1/6.2): step s is at position L+s
            steps = Math.max(0, Math.min(steps, window - 1 - input[0].length));
        }
        return new GoldenFixture(dir.getFileName().toString(), dir, input, sem, gen, pre, dec, layers, next, steps);
    }

    public int batch() {
        return inputIds.length;
    }

    public int promptLength() {
        return inputIds[0].length;
    }

    private static int[] ints(JsonNode n) {
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asInt();
        }
        return out;
    }

    private static int[][] ints2(JsonNode n) {
        int[][] out = new int[n.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = ints(n.get(i));
        }
        return out;
    }

    /** Flattens a nested array of numbers in row-major order. */
    static float[] floats(JsonNode n) {
        int count = count(n);
        float[] out = new float[count];
        fill(n, out, 0);
        return out;
    }

    private static float[][] floats2(JsonNode n) {
        float[][] out = new float[n.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = floats(n.get(i));
        }
        return out;
    }

    private static int count(JsonNode n) {
        if (!n.isArray()) {
            return 1;
        }
        int c = 0;
        for (JsonNode e : n) {
            c += count(e);
        }
        return c;
    }

    private static int fill(JsonNode n, float[] out, int at) {
        if (!n.isArray()) {
            out[at] = (float) n.asDouble();
            return at + 1;
        }
        for (JsonNode e : n) {
            at = fill(e, out, at);
        }
        return at;
    }
}
