package dev.rg.core.generate;

import java.util.Arrays;

/**
 * The log-probability of a chosen token, and of the most likely tokens beside it, under the model's distribution at
 * one position: {@code log_softmax} of the raw logits (soft-capped as the model outputs them), before temperature,
 * penalties, top-k or top-p shape the distribution a token is drawn from. That is the likelihood an evaluation
 * needs, and what OpenAI-compatible servers return as {@code logprobs}.
 *
 * <p>A prompt echoed with its log-probabilities starts with a token nothing predicted: {@link #unscored} (NaN,
 * no alternatives), which an API shows as {@code null}.
 *
 * @param token       the chosen token
 * @param logprob     its log-probability ({@code <= 0}); NaN for an {@link #unscored} token
 * @param topIds      the {@code top} most likely tokens, most likely first, lowest id first on ties (the order of
 *                    {@code Kernels.topK})
 * @param topLogprobs their log-probabilities
 */
public record TokenLogprobs(int token, float logprob, int[] topIds, float[] topLogprobs) {
    /** OpenAI's bound on {@code top_logprobs}: at most 20 alternatives per token. */
    public static final int MAX_TOP = 20;

    /**
     * Computes the entry of {@code token} from {@code logits[offset .. offset+vocab)}, which must be finite (a sampler
     * refuses a row that is not before a token is chosen from it).
     *
     * @throws IllegalArgumentException if {@code token} is not in the row or {@code top} is outside 0..{@link #MAX_TOP}
     */
    public static TokenLogprobs of(float[] logits, int offset, int vocab, int token, int top) {
        if (token < 0 || token >= vocab) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary of " + vocab);
        }
        if (top < 0 || top > MAX_TOP) {
            throw new IllegalArgumentException("top " + top + " is outside 0.." + MAX_TOP);
        }
        double lse = logSumExp(logits, offset, vocab);
        int n = Math.min(top, vocab);
        int[] ids = new int[n];
        float[] values = new float[n];
        largest(logits, offset, vocab, ids, values);
        float[] lps = new float[n];
        for (int i = 0; i < n; i++) {
            lps[i] = (float) (values[i] - lse);
        }
        return new TokenLogprobs(token, (float) (logits[offset + token] - lse), ids, lps);
    }

    /** The entry of a sequence's first token, which no position predicts: no log-probability, no alternatives. */
    public static TokenLogprobs unscored(int token) {
        return new TokenLogprobs(token, Float.NaN, new int[0], new float[0]);
    }

    /** False for an {@link #unscored} entry. */
    public boolean scored() {
        return !Float.isNaN(logprob);
    }

    /** {@code log(sum(exp(x)))} over the row, in double around the row's maximum (no overflow, little rounding). */
    static double logSumExp(float[] x, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp((double) x[offset + i] - max);
        }
        return max + Math.log(sum);
    }

    /** The {@code ids.length} largest values of the row into {@code ids/values}, descending, lowest id first on ties. */
    private static void largest(float[] x, int offset, int n, int[] ids, float[] values) {
        int k = ids.length;
        int filled = 0;
        for (int id = 0; id < n && k > 0; id++) {
            float v = x[offset + id];
            if (filled == k && v <= values[k - 1]) {
                continue; // not above the smallest kept (an equal value has a higher id: it loses the tie)
            }
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && values[at - 1] < v) {
                ids[at] = ids[at - 1];
                values[at] = values[at - 1];
                at--;
            }
            ids[at] = id;
            values[at] = v;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenLogprobs t && t.token == token && Float.compare(t.logprob, logprob) == 0
                && Arrays.equals(t.topIds, topIds) && Arrays.equals(t.topLogprobs, topLogprobs);
    }

    @Override
    public int hashCode() {
        return (token * 31 + Float.hashCode(logprob)) * 31 + Arrays.hashCode(topIds);
    }

    @Override
    public String toString() {
        return "TokenLogprobs[token=" + token + ", logprob=" + logprob + ", top=" + Arrays.toString(topIds) + " "
                + Arrays.toString(topLogprobs) + "]";
    }
}
