package dev.rg.core.model;

import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.tensor.Weight;
import dev.rg.core.config.BlockType;
import java.util.Objects;

/**
 * The weights of one decoder layer, already on the backend: a {@link RecurrentLayer} or an {@link AttentionLayer}
 * (the temporal block), each with its two pre-norms and its MLP. Switch over it to run a layer; every part is
 * non-null except the q/k/v biases of a model without attention_bias. The tensor names are in {@link TensorSpec}.
 */
public sealed interface LayerWeights {

    /** temporal_pre_norm.weight [H]. */
    Weight temporalNorm();

    /** channel_pre_norm.weight [H]. */
    Weight channelNorm();

    /** The GeGLU MLP. */
    Mlp mlp();

    /** The kind of temporal block. */
    default BlockType type() {
        return switch (this) {
            case RecurrentLayer r -> BlockType.RECURRENT;
            case AttentionLayer a -> BlockType.ATTENTION;
        };
    }

    /** A layer whose temporal block is the recurrent block (§5). */
    record RecurrentLayer(Weight temporalNorm, Weight channelNorm, Mlp mlp, Recurrent recurrent) implements LayerWeights {
        public RecurrentLayer {
            requireAll(temporalNorm, channelNorm, mlp, recurrent);
        }
    }

    /** A layer whose temporal block is local attention (§6). */
    record AttentionLayer(Weight temporalNorm, Weight channelNorm, Mlp mlp, Attention attention) implements LayerWeights {
        public AttentionLayer {
            requireAll(temporalNorm, channelNorm, mlp, attention);
        }
    }

    /** {@code down(gelu(gate(x)) * up(x))}. */
    record Mlp(Weight gate, Weight gateBias, Weight up, Weight upBias, Weight down, Weight downBias) {
        public Mlp {
            requireAll(gate, gateBias, up, upBias, down, downBias);
        }
    }

    /** linear_y / linear_x / conv1d / RG-LRU / linear_out. */
    record Recurrent(Weight linearY, Weight linearYBias, Weight linearX, Weight linearXBias, Weight conv, Weight convBias,
            RgLruWeights lru, Weight linearOut, Weight linearOutBias) {
        public Recurrent {
            requireAll(linearY, linearYBias, linearX, linearXBias, conv, convBias, lru, linearOut, linearOutBias);
        }
    }

    /** q/k/v/o projections (q/k/v biases only with attention_bias, else null). */
    record Attention(Weight q, Weight qBias, Weight k, Weight kBias, Weight v, Weight vBias, Weight o, Weight oBias) {
        public Attention {
            requireAll(q, k, v, o, oBias);
        }
    }

    private static void requireAll(Object... parts) {
        for (Object p : parts) {
            Objects.requireNonNull(p, "a required weight of the layer is missing");
        }
    }
}
