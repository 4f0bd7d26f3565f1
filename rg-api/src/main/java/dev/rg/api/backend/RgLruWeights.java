package dev.rg.api.backend;

import dev.rg.api.tensor.Weight;

/**
 * The parameters of one RG-LRU. Gate weights are {@code [blocks, bw, bw]} with element {@code [h, i, j]}
 * multiplying input channel {@code h*bw+i} into output channel {@code h*bw+j} (x @ W[h], NOT a Linear
 * {@code [out, in]}); as a matrix that is row {@code h*bw+i}, column {@code j}.
 *
 * @param inputGateWeight     {@code [blocks, bw, bw]}
 * @param inputGateBias       {@code [blocks, bw]}
 * @param recurrentGateWeight {@code [blocks, bw, bw]}
 * @param recurrentGateBias   {@code [blocks, bw]}
 * @param softplusLambda      {@code softplus(Λ)} of the checkpoint's {@code recurrent_param} Λ, {@code [R]} float32,
 *                            computed once when the model is loaded (torch's softplus, threshold 20), so no
 *                            backend computes it per call
 * @param blocks              number of diagonal blocks (= attention heads)
 */
public record RgLruWeights(Weight inputGateWeight, Weight inputGateBias, Weight recurrentGateWeight,
        Weight recurrentGateBias, Weight softplusLambda, int blocks) {

    /** The recurrence width R. */
    public int width() {
        return Math.toIntExact(softplusLambda.shape().elementCount());
    }

    /** The block width R / blocks. */
    public int blockWidth() {
        return width() / blocks;
    }
}
