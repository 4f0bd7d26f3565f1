package dev.rg.core.model;

import dev.rg.api.tensor.Weight;
import java.util.List;

/**
 * Every weight of a model on its backend.
 *
 * @param embedding the token embedding [V, H], also the tied LM head
 * @param finalNorm final_norm.weight [H]
 * @param layers    per-layer weights
 */
public record ModelWeights(Weight embedding, Weight finalNorm, List<LayerWeights> layers) {
    public ModelWeights {
        layers = List.copyOf(layers);
    }

    /** Bytes read from weights per decoded token: everything once, the embedding as LM head. */
    public long bytesPerToken() {
        long n = embedding.byteSize() + finalNorm.byteSize();
        for (LayerWeights l : layers) {
            n += l.temporalNorm().byteSize() + l.channelNorm().byteSize();
            n += sum(l.mlp().gate(), l.mlp().gateBias(), l.mlp().up(), l.mlp().upBias(), l.mlp().down(), l.mlp().downBias());
            n += switch (l) {
                case LayerWeights.RecurrentLayer rl -> {
                    LayerWeights.Recurrent r = rl.recurrent();
                    yield sum(r.linearY(), r.linearYBias(), r.linearX(), r.linearXBias(), r.conv(), r.convBias(), r.linearOut(),
                            r.linearOutBias(), r.lru().inputGateWeight(), r.lru().inputGateBias(), r.lru().recurrentGateWeight(),
                            r.lru().recurrentGateBias(), r.lru().softplusLambda());
                }
                case LayerWeights.AttentionLayer al -> {
                    LayerWeights.Attention a = al.attention();
                    yield sum(a.q(), a.qBias(), a.k(), a.kBias(), a.v(), a.vBias(), a.o(), a.oBias());
                }
            };
        }
        return n;
    }

    /**
     * Multiply-adds per token of the layers' matrix products (projections, MLP, the RG-LRU's gates), without the LM head:
     * what a prompt token costs in prefill, where the head runs for the last position only. Norms, the convolution, the
     * scan and attention over the window are left out (under 1% of a 2B token at short contexts).
     */
    public long layerMultiplyAddsPerToken() {
        long n = 0;
        for (LayerWeights l : layers) {
            n += elements(l.mlp().gate(), l.mlp().up(), l.mlp().down());
            n += switch (l) {
                case LayerWeights.RecurrentLayer rl -> {
                    LayerWeights.Recurrent r = rl.recurrent();
                    yield elements(r.linearY(), r.linearX(), r.linearOut(), r.lru().inputGateWeight(), r.lru().recurrentGateWeight());
                }
                case LayerWeights.AttentionLayer al -> {
                    LayerWeights.Attention a = al.attention();
                    yield elements(a.q(), a.k(), a.v(), a.o());
                }
            };
        }
        return n;
    }

    /** Multiply-adds of the tied LM head for one token's logits. */
    public long headMultiplyAddsPerToken() {
        return embedding.shape().elementCount();
    }

    private static long elements(Weight... ws) {
        long n = 0;
        for (Weight w : ws) {
            n += w.shape().elementCount();
        }
        return n;
    }

    private static long sum(Weight... ws) {
        long n = 0;
        for (Weight w : ws) {
            if (w != null) {
                n += w.byteSize();
            }
        }
        return n;
    }
}
