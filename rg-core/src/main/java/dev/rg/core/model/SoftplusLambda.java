package dev.rg.core.model;

import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import java.lang.foreign.Arena;

/**
 * The RG-LRU's one load-time constant: its decay rate {@code c = softplus(Λ)} of the checkpoint's
 * {@code rg_lru.recurrent_param} Λ. It depends on the weights only, so it is computed here once, in float32 exactly
 * as the reference did per call, and every backend's RG-LRU reads {@code c} ({@link
 * dev.rg.api.backend.RgLruWeights#softplusLambda()}) instead of recomputing it for every token.
 */
public final class SoftplusLambda {
    /** The checkpoint tensor this replaces (the name ends with it). */
    public static final String PARAMETER = "rg_lru.recurrent_param";
    /** torch.nn.functional.softplus' default threshold: above it softplus(x) is x. */
    public static final float THRESHOLD = 20f;

    private SoftplusLambda() {}

    /** torch's softplus in float32: x above {@link #THRESHOLD}, else log(1 + e^x). */
    public static float softplus(float x) {
        return x > THRESHOLD ? x : (float) Math.log1p(Math.exp(x));
    }

    /** What a backend loads for a checkpoint tensor: softplus(Λ) for an RG-LRU's Λ, any other weight as it is. */
    public static HostWeight atLoad(HostWeight w, Arena arena) {
        return w.name().endsWith(PARAMETER) ? of(w, arena) : w;
    }

    /** softplus of every element of {@code lambda}, as a float32 weight of the same name and shape. */
    public static HostWeight of(HostWeight lambda, Arena arena) {
        int cols = Math.toIntExact(lambda.shape().lastDim());
        return WeightFormats.f32().quantize(lambda.name(), lambda.shape(), (row, dst) -> {
            lambda.format().dequantizeRow(lambda, row, dst, 0);
            for (int i = 0; i < cols; i++) {
                dst[i] = softplus(dst[i]);
            }
        }, arena);
    }
}
