package dev.rg.core.generate;

import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.Tensor;

/**
 * Samples rows of logits that are still on the backend from their k largest values: {@code Kernels.topK} brings
 * k ids and values per row across instead of the whole vocabulary row (256k floats for Gemma). Every sampler must
 * allow it ({@link Sampler#deviceTopK} &gt; 0); the rows then get the tokens {@link Sampler#sample} would pick from
 * the downloaded rows. One k serves the whole batch (the largest any row asks for): the first k' of the k largest
 * are the k' largest, in the same order. Reuses its buffers; not thread-safe.
 */
public final class DeviceTopK {
    private int[] ids = new int[0];
    private float[] values = new float[0];

    /** Whether every non-null sampler can pick from the top k alone (and at least one is there). */
    public static boolean applies(Sampler... samplers) {
        boolean any = false;
        for (Sampler s : samplers) {
            if (s != null) {
                if (s.deviceTopK() == 0) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    /**
     * Picks the next token of every row {@code r} of {@code logits} whose {@code samplers[r]} is non-null into
     * {@code out[r]}.
     */
    public void sample(Kernels kernels, Tensor logits, Sampler[] samplers, int[] out) {
        int k = 0;
        for (Sampler s : samplers) {
            if (s != null) {
                k = Math.max(k, s.deviceTopK());
            }
        }
        int rows = logits.rows();
        if (ids.length != rows * k) {
            ids = new int[rows * k];
            values = new float[rows * k];
        }
        kernels.topK(logits, k, ids, values);
        for (int r = 0; r < samplers.length; r++) {
            if (samplers[r] != null) {
                out[r] = samplers[r].sampleTop(ids, values, r * k);
            }
        }
    }
}
