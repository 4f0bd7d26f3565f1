package dev.rg.core.model;

import dev.rg.api.tensor.Shape;
import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors a RecurrentGemma checkpoint of a config must hold, generated from {@link TensorSpec} (which
 * names each tensor once), plus the names rg reads past.
 */
public final class WeightNames {
    public static final String EMBEDDING = TensorSpec.EMBEDDING.suffix();
    public static final String FINAL_NORM = TensorSpec.FINAL_NORM.suffix();
    /** Present in checkpoints written by transformers 4.40.0; ignored (rg computes bf16(sqrt(H)) itself). */
    public static final String NORMALIZER = "model.normalizer";
    /** Usually absent; when present a copy of the embedding, ignored (the head is tied). */
    public static final String LM_HEAD = "lm_head.weight";

    private WeightNames() {}

    /** Prefix of layer {@code i}, e.g. {@code model.layers.3.}. */
    public static String layer(int i) {
        return TensorSpec.layerPrefix(i);
    }

    /** Every tensor the model needs, in a stable order: the embedding, the final norm, then layer by layer. */
    public static List<ExpectedTensor> tensors(ModelConfig c) {
        List<ExpectedTensor> out = new ArrayList<>();
        for (TensorSpec s : TensorSpec.values()) {
            if (s.part() == TensorSpec.Part.MODEL) {
                out.add(new ExpectedTensor(s.name(-1), -1, s, s.shape(c)));
            }
        }
        for (int i = 0; i < c.layers(); i++) {
            for (TensorSpec s : TensorSpec.values()) {
                if (s.part().inLayer(c, i) && s.presentIn(c)) {
                    out.add(new ExpectedTensor(s.name(i), i, s, s.shape(c)));
                }
            }
        }
        return out;
    }

    /** Every tensor's name and shape, in the order of {@link #tensors}. */
    public static Map<String, Shape> expected(ModelConfig c) {
        Map<String, Shape> m = new LinkedHashMap<>();
        for (ExpectedTensor t : tensors(c)) {
            m.put(t.name(), t.shape());
        }
        return m;
    }

    /**
     * Whether a tensor is one of the large linear layers that weight formats quantise (role
     * {@link TensorRole#LINEAR}: MLP, linear_x/y/out, q/k/v/o projections). RG-LRU gates, conv, norms, biases and
     * the embedding are not.
     */
    public static boolean isLinear(String name) {
        TensorSpec s = TensorSpec.of(name);
        return s != null && s.role().isLinear();
    }
}
