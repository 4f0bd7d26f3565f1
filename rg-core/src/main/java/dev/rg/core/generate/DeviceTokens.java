package dev.rg.core.generate;

import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.Tensor;

/**
 * Next tokens taken where the logits are, in the one order every batched generator uses: greedy rows through
 * {@link DeviceArgmax} (one id per row crosses), else rows that sample from their top k through {@link DeviceTopK}
 * (k ids and values per row), else nothing, and the caller downloads the rows. The caller decides what each path
 * may serve: beyond {@link DeviceArgmax#applies} and {@link DeviceTopK#applies}, anything that changes a row or needs
 * all of it (a JSON mask, penalties, {@code logit_bias}, logprobs) rules both out. Reuses its buffers; not thread-safe.
 */
public final class DeviceTokens {
    private final DeviceArgmax argmax = new DeviceArgmax();
    private final DeviceTopK topK = new DeviceTopK();

    /**
     * The tokens of the rows of {@code logits} whose {@code samplers[r]} is non-null, into {@code out[r]}: through the
     * argmax when {@code argmaxAllowed}, else (or when an argmax id is one that NaN logits give) through the top k when
     * {@code topKAllowed}. False when neither took them; {@code out} may then be partly written, and the caller
     * downloads the rows and samples them on the host (which names a bad value).
     */
    public boolean pick(Kernels kernels, Tensor logits, Sampler[] samplers, int padId, boolean argmaxAllowed,
            boolean topKAllowed, int[] out) {
        if (argmaxAllowed && argmax.pick(kernels, logits, samplers, padId, out)) {
            return true;
        }
        if (topKAllowed) {
            topK.sample(kernels, logits, samplers, out);
            return true;
        }
        return false;
    }
}
