package dev.rg.core.model;

import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.tensor.Weight;
import dev.rg.core.config.BlockType;

/**
 * The weights of one decoder layer, already on the backend. Fields of the other block type are null.
 *
 * @param type            which temporal block
 * @param temporalNorm    temporal_pre_norm.weight [H]
 * @param channelNorm     channel_pre_norm.weight [H]
 * @param mlp             the GeGLU MLP
 * @param recurrent       the recurrent block (null for attention layers)
 * @param attention       the attention block (null for recurrent layers)
 */
public record LayerWeights(BlockType type, Weight temporalNorm, Weight channelNorm, Mlp mlp, Recurrent recurrent,
        Attention attention) {

    /** {@code down(gelu(gate(x)) * up(x))}. */
    public record Mlp(Weight gate, Weight gateBias, Weight up, Weight upBias, Weight down, Weight downBias) {}

    /** linear_y / linear_x / conv1d / RG-LRU / linear_out. */
    public record Recurrent(Weight linearY, Weight linearYBias, Weight linearX, Weight linearXBias, Weight conv,
            Weight convBias, RgLruWeights lru, Weight linearOut, Weight linearOutBias) {}

    /** q/k/v/o projections (q/k/v biases only with attention_bias). */
    public record Attention(Weight q, Weight qBias, Weight k, Weight kBias, Weight v, Weight vBias, Weight o,
            Weight oBias) {}
}
