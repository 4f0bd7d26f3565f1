package dev.rg.core.model;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Op;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Weight;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.runtime.FallbackKernels;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Turns host weights (from a checkpoint or generated) into a {@link Griffin} on a backend: converts the
 * linear layers to the requested format, loads every weight onto the backend once, and leaves on the host
 * (with a per-op fallback) the weights whose format the backend cannot run.
 */
final class ModelAssembler {
    private final ModelConfig config;
    private final Backend backend;
    private final WeightConversion conversion;
    private final Arena arena;
    private final LoadProgress progress;
    private final Map<Weight, HostWeight> hostOf = new IdentityHashMap<>();
    private final Set<Weight> hostOnly = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<String, String> formats = new LinkedHashMap<>();

    ModelAssembler(ModelConfig config, Backend backend, WeightConversion conversion, Arena arena, LoadProgress progress) {
        this.config = config;
        this.backend = backend;
        this.conversion = conversion;
        this.arena = arena;
        this.progress = progress;
    }

    /** Builds the model; {@code source} returns the host weight of a name with the expected shape. */
    Griffin assemble(BiFunction<String, Shape, HostWeight> source) {
        Map<String, Shape> expected = WeightNames.expected(config);
        long total = 0;
        for (Shape s : expected.values()) {
            total += s.elementCount();
        }
        Map<String, Weight> loaded = new LinkedHashMap<>();
        long done = 0;
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
            HostWeight hw = source.apply(e.getKey(), e.getValue());
            if (!hw.shape().equals(e.getValue())) {
                throw new dev.rg.api.format.InvalidWeightException("tensor '" + e.getKey() + "' has shape " + hw.shape()
                        + " but the config needs " + e.getValue());
            }
            hw.format().validate(hw);
            loaded.put(e.getKey(), place(SoftplusLambda.atLoad(conversion.apply(hw, arena), arena)));
            done += e.getValue().elementCount();
            progress.update("load", done, total);
        }
        return new Griffin(config, backend, FallbackKernels.forBackend(backend, hostOf, hostOnly), weights(loaded));
    }

    /** The weight format of every tensor after conversion (for {@code rg info}). */
    Map<String, String> formats() {
        return formats;
    }

    /** Weights left on the host because the backend has no kernel for their format. */
    int hostOnlyCount() {
        return hostOnly.size();
    }

    private Weight place(HostWeight hw) {
        formats.put(hw.name(), hw.format().name());
        boolean big = WeightNames.isLinear(hw.name()) || hw.name().equals(WeightNames.EMBEDDING);
        boolean runnable = big
                ? backend.capabilities().supports(Op.MATMUL, hw.format().name())
                        && (!hw.name().equals(WeightNames.EMBEDDING) || backend.capabilities().supports(Op.EMBED, hw.format().name()))
                : true;
        if (!runnable) {
            hostOnly.add(hw);
            hostOf.put(hw, hw);
            return hw;
        }
        Weight w = backend.loadWeight(hw);
        hostOf.put(w, hw);
        return w;
    }

    private ModelWeights weights(Map<String, Weight> w) {
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            String p = WeightNames.layer(i);
            String t = p + "temporal_block.";
            LayerWeights.Mlp mlp = new LayerWeights.Mlp(w.get(p + "mlp_block.gate_proj.weight"), w.get(p + "mlp_block.gate_proj.bias"),
                    w.get(p + "mlp_block.up_proj.weight"), w.get(p + "mlp_block.up_proj.bias"),
                    w.get(p + "mlp_block.down_proj.weight"), w.get(p + "mlp_block.down_proj.bias"));
            LayerWeights.Recurrent rec = null;
            LayerWeights.Attention att = null;
            if (config.blockType(i) == BlockType.RECURRENT) {
                RgLruWeights lru = new RgLruWeights(w.get(t + "rg_lru.input_gate_weight"), w.get(t + "rg_lru.input_gate_bias"),
                        w.get(t + "rg_lru.recurrent_gate_weight"), w.get(t + "rg_lru.recurrent_gate_bias"),
                        w.get(t + "rg_lru.recurrent_param"), config.heads());
                rec = new LayerWeights.Recurrent(w.get(t + "linear_y.weight"), w.get(t + "linear_y.bias"),
                        w.get(t + "linear_x.weight"), w.get(t + "linear_x.bias"), w.get(t + "conv_1d.weight"),
                        w.get(t + "conv_1d.bias"), lru, w.get(t + "linear_out.weight"), w.get(t + "linear_out.bias"));
            } else {
                att = new LayerWeights.Attention(w.get(t + "q_proj.weight"), w.get(t + "q_proj.bias"), w.get(t + "k_proj.weight"),
                        w.get(t + "k_proj.bias"), w.get(t + "v_proj.weight"), w.get(t + "v_proj.bias"),
                        w.get(t + "o_proj.weight"), w.get(t + "o_proj.bias"));
            }
            layers.add(new LayerWeights(config.blockType(i), w.get(p + "temporal_pre_norm.weight"),
                    w.get(p + "channel_pre_norm.weight"), mlp, rec, att));
        }
        return new ModelWeights(w.get(WeightNames.EMBEDDING), w.get(WeightNames.FINAL_NORM), layers);
    }
}
