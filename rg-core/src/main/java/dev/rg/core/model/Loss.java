package dev.rg.core.model;

import dev.rg.api.tensor.Tensor;

/**
 * Causal language-model loss as Hugging Face computes it: logits at position t predict {@code labels[t+1]};
 * label {@code -100} is ignored; natural log; mean over the counted targets.
 */
public final class Loss {
    /** HF's ignore index. */
    public static final int IGNORE = -100;

    /**
     * @param sum   total negative log-likelihood (nats)
     * @param count number of predicted targets
     */
    public record Result(double sum, int count) {
        /** Mean NLL per target. */
        public double mean() {
            return count == 0 ? Double.NaN : sum / count;
        }

        /** exp(mean NLL). */
        public double perplexity() {
            return Math.exp(mean());
        }

        public Result plus(Result o) {
            return new Result(sum + o.sum, count + o.count);
        }
    }

    private Loss() {}

    /** Loss of {@code ids} predicting themselves ({@code labels = ids}) as one fresh sequence. */
    public static Result of(Model model, int[] ids) {
        return of(model, ids, ids);
    }

    /** Loss with explicit labels (same length as {@code ids}; {@link #IGNORE} skips a position). */
    public static Result of(Model model, int[] ids, int[] labels) {
        if (labels.length != ids.length) {
            throw new IllegalArgumentException(labels.length + " labels for " + ids.length + " tokens");
        }
        int vocab = model.config().vocabSize();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != IGNORE && (labels[i] < 0 || labels[i] >= vocab)) {
                throw new IllegalArgumentException("label " + labels[i] + " at " + i + " is neither -100 nor a token id < " + vocab);
            }
        }
        // the text goes through in pieces of one prefill chunk: memory (logits of one piece) does not grow with its length
        int piece = Griffin.chunkTokens(1);
        double sum = 0;
        int count = 0;
        try (ModelState state = model.newState(1)) {
            for (int start = 0; start < ids.length; start += piece) {
                int n = Math.min(piece, ids.length - start);
                Tensor logits = model.griffin().forward(state, java.util.Arrays.copyOfRange(ids, start, start + n), n, Outputs.ALL);
                float[] all = new float[n * vocab];
                model.backend().download(logits, all);
                for (int i = 0; i < n && start + i + 1 < ids.length; i++) {
                    int target = labels[start + i + 1];
                    if (target == IGNORE) {
                        continue;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocab; v++) {
                        max = Math.max(max, all[i * vocab + v]);
                    }
                    double z = 0;
                    for (int v = 0; v < vocab; v++) {
                        z += Math.exp(all[i * vocab + v] - max);
                    }
                    sum += Math.log(z) + max - all[i * vocab + target];
                    count++;
                }
            }
        }
        return new Result(sum, count);
    }
}
