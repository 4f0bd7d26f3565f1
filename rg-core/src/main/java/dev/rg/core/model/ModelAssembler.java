package dev.rg.core.model;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Op;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Weight;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.runtime.FallbackKernels;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

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

    /**
     * Builds the model; {@code source} returns the host weight of an expected tensor, with its shape, and may be called
     * from several threads at once (reading a checkpoint's mapped tensors, generating seeded random weights).
     *
     * <p>Reading, checking and converting a tensor (quantising it to {@code --format}: seconds per 2B matrix on one
     * thread) run on helper threads ahead of the tensor being loaded onto the backend ({@link InOrderPipeline}); loading
     * and progress stay on the calling thread, in the checkpoint's order. Every tensor's conversion is its own and
     * deterministic, so the weights are the same bits as one thread makes, and a failure is the first bad tensor in
     * that order.
     */
    Griffin assemble(Function<ExpectedTensor, HostWeight> source) {
        List<ExpectedTensor> expected = WeightNames.tensors(config);
        long total = expected.stream().mapToLong(t -> t.shape().elementCount()).sum();
        Map<String, Weight> loaded = new HashMap<>();
        long[] done = {0};
        InOrderPipeline.run(expected, t -> convert(source, t), (t, converted) -> {
            loaded.put(t.name(), place(converted, t.role()));
            done[0] += t.shape().elementCount();
            progress.update("load", done[0], total);
        });
        return new Griffin(config, backend, FallbackKernels.forBackend(backend, hostOf, hostOnly), bind(loaded));
    }

    /** Reads, checks and converts one tensor (on a helper thread). */
    private HostWeight convert(Function<ExpectedTensor, HostWeight> source, ExpectedTensor t) {
        HostWeight hw = source.apply(t);
        if (!hw.shape().equals(t.shape())) {
            throw new InvalidWeightException("tensor '" + t.name() + "' has shape " + hw.shape() + " but the config needs "
                    + t.shape());
        }
        hw.format().validate(hw);
        HostWeight converted = conversion.apply(hw, t.role(), arena);
        // constants every backend would derive per call are computed here, once (Λ -> softplus(Λ))
        return t.spec() == TensorSpec.LRU_PARAM ? SoftplusLambda.of(converted, arena) : converted;
    }

    /** The weight format of every tensor after conversion (for {@code rg info}). */
    Map<String, String> formats() {
        return formats;
    }

    /** Weights left on the host because the backend has no kernel for their format. */
    int hostOnlyCount() {
        return hostOnly.size();
    }

    private Weight place(HostWeight hw, TensorRole role) {
        formats.put(hw.name(), hw.format().name());
        String f = hw.format().name();
        boolean runnable = switch (role) {
            case LINEAR -> backend.capabilities().supports(Op.MATMUL, f);
            case EMBEDDING -> backend.capabilities().supports(Op.MATMUL, f) && backend.capabilities().supports(Op.EMBED, f);
            case NORM, BIAS, CONV, GATE, PARAM -> true;
        };
        if (!runnable) {
            hostOnly.add(hw);
            hostOf.put(hw, hw);
            return hw;
        }
        Weight w = backend.loadWeight(hw);
        hostOf.put(w, hw);
        return w;
    }

    /** Binds the loaded tensors (by name) into the model's weight records, layer kind by layer kind. */
    private ModelWeights bind(Map<String, Weight> loaded) {
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.layers(); i++) {
            int layer = i;
            Function<TensorSpec, Weight> w = s -> s.presentIn(config) ? loaded.get(s.name(layer)) : null;
            LayerWeights.Mlp mlp = new LayerWeights.Mlp(w.apply(TensorSpec.MLP_GATE), w.apply(TensorSpec.MLP_GATE_BIAS),
                    w.apply(TensorSpec.MLP_UP), w.apply(TensorSpec.MLP_UP_BIAS), w.apply(TensorSpec.MLP_DOWN),
                    w.apply(TensorSpec.MLP_DOWN_BIAS));
            Weight temporalNorm = w.apply(TensorSpec.TEMPORAL_NORM);
            Weight channelNorm = w.apply(TensorSpec.CHANNEL_NORM);
            layers.add(switch (config.blockType(i)) {
                case RECURRENT -> new LayerWeights.RecurrentLayer(temporalNorm, channelNorm, mlp, new LayerWeights.Recurrent(
                        w.apply(TensorSpec.LINEAR_Y), w.apply(TensorSpec.LINEAR_Y_BIAS), w.apply(TensorSpec.LINEAR_X),
                        w.apply(TensorSpec.LINEAR_X_BIAS), w.apply(TensorSpec.CONV), w.apply(TensorSpec.CONV_BIAS), rgLru(w),
                        w.apply(TensorSpec.LINEAR_OUT), w.apply(TensorSpec.LINEAR_OUT_BIAS)));
                case ATTENTION -> new LayerWeights.AttentionLayer(temporalNorm, channelNorm, mlp, new LayerWeights.Attention(
                        w.apply(TensorSpec.Q), w.apply(TensorSpec.Q_BIAS), w.apply(TensorSpec.K), w.apply(TensorSpec.K_BIAS),
                        w.apply(TensorSpec.V), w.apply(TensorSpec.V_BIAS), w.apply(TensorSpec.O), w.apply(TensorSpec.O_BIAS)));
            });
        }
        return new ModelWeights(loaded.get(TensorSpec.EMBEDDING.name(-1)), loaded.get(TensorSpec.FINAL_NORM.name(-1)), layers);
    }

    /** The RG-LRU parameters of one recurrent layer: the gates and Λ (recurrent_param) as loaded. */
    private RgLruWeights rgLru(Function<TensorSpec, Weight> w) {
        return new RgLruWeights(w.apply(TensorSpec.LRU_INPUT_GATE), w.apply(TensorSpec.LRU_INPUT_GATE_BIAS),
                w.apply(TensorSpec.LRU_RECURRENT_GATE), w.apply(TensorSpec.LRU_RECURRENT_GATE_BIAS),
                w.apply(TensorSpec.LRU_PARAM), config.heads());
    }
}
