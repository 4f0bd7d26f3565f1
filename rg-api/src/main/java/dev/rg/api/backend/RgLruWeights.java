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
 * @param recurrentParam      Λ, {@code [R]}
 * @param blocks              number of diagonal blocks (= attention heads)
 */
public record RgLruWeights(Weight inputGateWeight, Weight inputGateBias, Weight recurrentGateWeight,
        Weight recurrentGateBias, Weight recurrentParam, int blocks) {

    /** The recurrence width R. */
    public int width() {
        return Math.toIntExact(recurrentParam.shape().elementCount());
    }

    /** The block width R / blocks. */
    public int blockWidth() {
        return width() / blocks;
    }
}
