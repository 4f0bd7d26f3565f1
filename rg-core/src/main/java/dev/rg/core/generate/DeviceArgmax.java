package dev.rg.core.generate;

import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.Tensor;

/**
 * Greedy rows of logits that are still on the backend: {@code Kernels.argmax} brings one id per row across instead of
 * the whole vocabulary row (a 2B row is 1 MB; sixteen of them were downloaded and scanned on the host every step of a
 * server's batch, or copied from a GPU). Every sampler must pick the argmax alone ({@link Sampler#argmaxOnly}); the
 * rows then get the tokens {@link Sampler#sample} would pick. Reuses its buffer; not thread-safe.
 *
 * <p>Non-finite logits: {@code Sampler#sample} scans the row and names the bad value. Here only the id crosses, as in
 * {@code Session}'s greedy path: a NaN in the hidden state makes every logit of the row NaN, and argmax then returns 0,
 * which is {@code <pad>}, an id a healthy model practically never predicts. So an id of 0, the pad id or one outside
 * the vocabulary makes {@link #pick} give up, and the caller samples the downloaded rows as before.
 */
public final class DeviceArgmax {
    private int[] ids = new int[0];

    /** Whether every non-null sampler picks the argmax alone (and at least one is there). */
    public static boolean applies(Sampler... samplers) {
        boolean any = false;
        for (Sampler s : samplers) {
            if (s != null) {
                if (!s.argmaxOnly()) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    /**
     * The argmax of every row {@code r} of {@code logits} whose {@code samplers[r]} is non-null into {@code out[r]};
     * false, with {@code out} partly written, when such a row's id is one that NaN logits give (see the class comment):
     * the caller then downloads the rows and samples them on the host.
     */
    public boolean pick(Kernels kernels, Tensor logits, Sampler[] samplers, int padId, int[] out) {
        int rows = logits.rows();
        if (ids.length != rows) {
            ids = new int[rows];
        }
        kernels.argmax(logits, ids);
        int vocab = logits.cols();
        for (int r = 0; r < samplers.length; r++) {
            if (samplers[r] != null) {
                int id = ids[r];
                if (id <= 0 || id >= vocab || id == padId) {
                    return false;
                }
                out[r] = id;
            }
        }
        return true;
    }
}
