package dev.rg.bench.jmh;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.Weight;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.SoftplusLambda;
import java.lang.foreign.Arena;

/**
 * The weights of one Griffin layer's parts in their real shapes, seeded, scaled like the model's
 * initialisation (so activations stay in a realistic range), and loaded onto a backend. Small weights (norms,
 * biases, conv, RG-LRU gates) are float32, as {@code Model.random} makes them; linear layers in the format asked.
 */
final class ModelParts {
    private final SeededData data;
    private final Backend be;
    private final Arena arena;
    private final ModelConfig c;

    ModelParts(SeededData data, Backend be, Arena arena, ModelConfig c) {
        this.data = data;
        this.be = be;
        this.arena = arena;
        this.c = c;
    }

    /** A linear weight {@code [out, in]} in {@code format}. */
    Weight linear(String name, WeightFormat format, int out, int in) {
        return data.weight(be, arena, name, format, 0, 1 / Math.sqrt(in), out, in);
    }

    /** A float32 bias (or any small vector). */
    Weight vector(String name, int n, double mean, double std) {
        return data.weight(be, arena, name, WeightFormats.f32(), mean, std, n);
    }

    /** An RMSNorm scale over the hidden size. */
    Weight norm(String name) {
        return vector(name, c.hiddenSize(), 0, 0.1);
    }

    /** The conv1d kernel {@code [R, 1, K]}. */
    Weight convKernel(String name) {
        return data.weight(be, arena, name, WeightFormats.f32(), 0, 1 / Math.sqrt(c.convWidth()), c.lruWidth(), 1,
                c.convWidth());
    }

    /** The RG-LRU gates and softplus(Λ), computed from a seeded Λ as the model does at load. */
    RgLruWeights lru(String name) {
        int heads = c.heads();
        int bw = c.lruWidth() / heads;
        return new RgLruWeights(
                data.weight(be, arena, name + ".input_gate_weight", WeightFormats.f32(), 0, 1 / Math.sqrt(bw), heads, bw, bw),
                data.weight(be, arena, name + ".input_gate_bias", WeightFormats.f32(), 0, 0.05, heads, bw),
                data.weight(be, arena, name + ".recurrent_gate_weight", WeightFormats.f32(), 0, 1 / Math.sqrt(bw), heads, bw, bw),
                data.weight(be, arena, name + ".recurrent_gate_bias", WeightFormats.f32(), 0, 0.05, heads, bw),
                be.loadWeight(SoftplusLambda.of(data.hostWeight(arena, name + ".recurrent_param", WeightFormats.f32(), 1.0, 0.05,
                        c.lruWidth()), arena)), heads);
    }

    /** The attention shape of the config (window W: a full ring is W slots). */
    AttentionSpec attention() {
        return new AttentionSpec(c.heads(), c.kvHeads(), c.headDim(), c.window());
    }
}
