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
