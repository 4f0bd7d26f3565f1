package dev.rg.core.model;

import dev.rg.api.tensor.Shape;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Every tensor of a RecurrentGemma checkpoint, described once (spec §2, Hugging Face names): where it lives,
 * its name, its shape as a function of the config and its role. The expected-tensor checks, the binding into
 * {@link LayerWeights}, which tensors a format converts ({@link TensorRole#LINEAR}) and the linear-format report
 * are all derived from this table; adding a tensor means adding a constant here and using it in the binding.
 */
public enum TensorSpec {
    EMBEDDING(Part.MODEL, "model.embed_tokens.weight", TensorRole.EMBEDDING, c -> Shape.of(c.vocabSize(), c.hiddenSize())),
    FINAL_NORM(Part.MODEL, "model.final_norm.weight", TensorRole.NORM, c -> Shape.of(c.hiddenSize())),

    TEMPORAL_NORM(Part.LAYER, "temporal_pre_norm.weight", TensorRole.NORM, c -> Shape.of(c.hiddenSize())),
    CHANNEL_NORM(Part.LAYER, "channel_pre_norm.weight", TensorRole.NORM, c -> Shape.of(c.hiddenSize())),

    MLP_GATE(Part.MLP, "mlp_block.gate_proj.weight", TensorRole.LINEAR, c -> Shape.of(c.mlpWidth(), c.hiddenSize())),
    MLP_GATE_BIAS(Part.MLP, "mlp_block.gate_proj.bias", TensorRole.BIAS, c -> Shape.of(c.mlpWidth())),
    MLP_UP(Part.MLP, "mlp_block.up_proj.weight", TensorRole.LINEAR, c -> Shape.of(c.mlpWidth(), c.hiddenSize())),
    MLP_UP_BIAS(Part.MLP, "mlp_block.up_proj.bias", TensorRole.BIAS, c -> Shape.of(c.mlpWidth())),
    MLP_DOWN(Part.MLP, "mlp_block.down_proj.weight", TensorRole.LINEAR, c -> Shape.of(c.hiddenSize(), c.mlpWidth())),
    MLP_DOWN_BIAS(Part.MLP, "mlp_block.down_proj.bias", TensorRole.BIAS, c -> Shape.of(c.hiddenSize())),

    LINEAR_Y(Part.RECURRENT, "temporal_block.linear_y.weight", TensorRole.LINEAR, c -> Shape.of(c.lruWidth(), c.hiddenSize())),
    LINEAR_Y_BIAS(Part.RECURRENT, "temporal_block.linear_y.bias", TensorRole.BIAS, c -> Shape.of(c.lruWidth())),
    LINEAR_X(Part.RECURRENT, "temporal_block.linear_x.weight", TensorRole.LINEAR, c -> Shape.of(c.lruWidth(), c.hiddenSize())),
    LINEAR_X_BIAS(Part.RECURRENT, "temporal_block.linear_x.bias", TensorRole.BIAS, c -> Shape.of(c.lruWidth())),
    LINEAR_OUT(Part.RECURRENT, "temporal_block.linear_out.weight", TensorRole.LINEAR, c -> Shape.of(c.hiddenSize(), c.lruWidth())),
    LINEAR_OUT_BIAS(Part.RECURRENT, "temporal_block.linear_out.bias", TensorRole.BIAS, c -> Shape.of(c.hiddenSize())),
    CONV(Part.RECURRENT, "temporal_block.conv_1d.weight", TensorRole.CONV, c -> Shape.of(c.lruWidth(), 1, c.convWidth())),
    CONV_BIAS(Part.RECURRENT, "temporal_block.conv_1d.bias", TensorRole.BIAS, c -> Shape.of(c.lruWidth())),
    LRU_PARAM(Part.RECURRENT, "temporal_block.rg_lru.recurrent_param", TensorRole.PARAM, c -> Shape.of(c.lruWidth())),
    LRU_INPUT_GATE(Part.RECURRENT, "temporal_block.rg_lru.input_gate_weight", TensorRole.GATE,
            c -> Shape.of(c.heads(), gateBlock(c), gateBlock(c))),
    LRU_INPUT_GATE_BIAS(Part.RECURRENT, "temporal_block.rg_lru.input_gate_bias", TensorRole.GATE, c -> Shape.of(c.heads(), gateBlock(c))),
    LRU_RECURRENT_GATE(Part.RECURRENT, "temporal_block.rg_lru.recurrent_gate_weight", TensorRole.GATE,
            c -> Shape.of(c.heads(), gateBlock(c), gateBlock(c))),
    LRU_RECURRENT_GATE_BIAS(Part.RECURRENT, "temporal_block.rg_lru.recurrent_gate_bias", TensorRole.GATE,
            c -> Shape.of(c.heads(), gateBlock(c))),

    Q(Part.ATTENTION, "temporal_block.q_proj.weight", TensorRole.LINEAR, c -> Shape.of(qWidth(c), c.hiddenSize())),
    K(Part.ATTENTION, "temporal_block.k_proj.weight", TensorRole.LINEAR, c -> Shape.of(kvWidth(c), c.hiddenSize())),
    V(Part.ATTENTION, "temporal_block.v_proj.weight", TensorRole.LINEAR, c -> Shape.of(kvWidth(c), c.hiddenSize())),
    Q_BIAS(Part.ATTENTION, "temporal_block.q_proj.bias", TensorRole.BIAS, c -> Shape.of(qWidth(c)), ModelConfig::attentionBias),
    K_BIAS(Part.ATTENTION, "temporal_block.k_proj.bias", TensorRole.BIAS, c -> Shape.of(kvWidth(c)), ModelConfig::attentionBias),
    V_BIAS(Part.ATTENTION, "temporal_block.v_proj.bias", TensorRole.BIAS, c -> Shape.of(kvWidth(c)), ModelConfig::attentionBias),
    O(Part.ATTENTION, "temporal_block.o_proj.weight", TensorRole.LINEAR, c -> Shape.of(c.hiddenSize(), qWidth(c))),
    O_BIAS(Part.ATTENTION, "temporal_block.o_proj.bias", TensorRole.BIAS, c -> Shape.of(c.hiddenSize()));

    /** Where a tensor lives: once per model, or in every layer / in layers of one temporal block kind. */
    public enum Part {
        /** Once per model (full name). */
        MODEL,
        /** Every layer: the two pre-norms. */
        LAYER,
        /** Every layer's MLP block. */
        MLP,
        /** Recurrent layers' temporal block. */
        RECURRENT,
        /** Attention layers' temporal block. */
        ATTENTION;

        /** Whether layer {@code layer} of {@code c} has tensors of this part (false for {@link #MODEL}). */
        public boolean inLayer(ModelConfig c, int layer) {
            return switch (this) {
                case MODEL -> false;
                case LAYER, MLP -> true;
                case RECURRENT -> c.blockType(layer) == BlockType.RECURRENT;
                case ATTENTION -> c.blockType(layer) == BlockType.ATTENTION;
            };
        }
    }

    private static final String LAYER_PREFIX = "model.layers.";

    private final Part part;
    private final String name;
    private final TensorRole role;
    private final Function<ModelConfig, Shape> shape;
    private final Predicate<ModelConfig> present;

    TensorSpec(Part part, String name, TensorRole role, Function<ModelConfig, Shape> shape) {
        this(part, name, role, shape, c -> true);
    }

    TensorSpec(Part part, String name, TensorRole role, Function<ModelConfig, Shape> shape, Predicate<ModelConfig> present) {
        this.part = part;
        this.name = name;
        this.role = role;
        this.shape = shape;
        this.present = present;
    }

    public Part part() {
        return part;
    }

    public TensorRole role() {
        return role;
    }

    /** The full name for a model tensor; the name after the layer prefix for a layer tensor. */
    public String suffix() {
        return name;
    }

    /** The checkpoint name of this tensor in layer {@code layer} (ignored for {@link Part#MODEL} tensors). */
    public String name(int layer) {
        return part == Part.MODEL ? name : layerPrefix(layer) + name;
    }

    /** Its shape under {@code c}. */
    public Shape shape(ModelConfig c) {
        return shape.apply(c);
    }

    /** Whether the config has this tensor at all (the q/k/v biases only with attention_bias). */
    public boolean presentIn(ModelConfig c) {
        return present.test(c);
    }

    /** Prefix of layer {@code i}, e.g. {@code model.layers.3.}. */
    public static String layerPrefix(int i) {
        return LAYER_PREFIX + i + ".";
    }

    /** The spec a checkpoint name refers to ({@code model.layers.7.mlp_block.up_proj.weight} is {@link #MLP_UP}), or null. */
    public static TensorSpec of(String tensorName) {
        String rest = tensorName;
        boolean layered = false;
        if (tensorName.startsWith(LAYER_PREFIX)) {
            int dot = tensorName.indexOf('.', LAYER_PREFIX.length());
            if (dot > LAYER_PREFIX.length()) {
                rest = tensorName.substring(dot + 1);
                layered = true;
            }
        }
        for (TensorSpec s : values()) {
            if ((s.part != Part.MODEL) == layered && s.name.equals(rest)) {
                return s;
            }
        }
        return null;
    }

    private static int gateBlock(ModelConfig c) {
        return c.lruWidth() / c.heads();
    }

    private static int qWidth(ModelConfig c) {
        return c.heads() * c.headDim();
    }

    private static int kvWidth(ModelConfig c) {
        return c.kvHeads() * c.headDim();
    }
}
