package dev.rg.core.model;

import dev.rg.api.tensor.Shape;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/** The Hugging Face tensor names of a RecurrentGemma checkpoint and their expected shapes (spec §2). */
public final class WeightNames {
    public static final String EMBEDDING = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.final_norm.weight";
    /** Present in checkpoints written by transformers 4.40.0; ignored (rg computes bf16(sqrt(H)) itself). */
    public static final String NORMALIZER = "model.normalizer";
    /** Usually absent; when present a copy of the embedding, ignored (the head is tied). */
    public static final String LM_HEAD = "lm_head.weight";

    private WeightNames() {}

    /** Prefix of layer {@code i}, e.g. {@code model.layers.3.}. */
    public static String layer(int i) {
        return "model.layers." + i + ".";
    }

    /** Every tensor the model needs, with its shape, in a stable order. */
    public static Map<String, Shape> expected(ModelConfig c) {
        Map<String, Shape> m = new LinkedHashMap<>();
        int h = c.hiddenSize();
        int r = c.lruWidth();
        int mw = c.mlpWidth();
        int bw = r / c.heads();
        m.put(EMBEDDING, Shape.of(c.vocabSize(), h));
        m.put(FINAL_NORM, Shape.of(h));
        for (int i = 0; i < c.layers(); i++) {
            String p = layer(i);
            m.put(p + "temporal_pre_norm.weight", Shape.of(h));
            m.put(p + "channel_pre_norm.weight", Shape.of(h));
            m.put(p + "mlp_block.gate_proj.weight", Shape.of(mw, h));
            m.put(p + "mlp_block.gate_proj.bias", Shape.of(mw));
            m.put(p + "mlp_block.up_proj.weight", Shape.of(mw, h));
            m.put(p + "mlp_block.up_proj.bias", Shape.of(mw));
            m.put(p + "mlp_block.down_proj.weight", Shape.of(h, mw));
            m.put(p + "mlp_block.down_proj.bias", Shape.of(h));
            String t = p + "temporal_block.";
            if (c.blockType(i) == BlockType.RECURRENT) {
                m.put(t + "linear_y.weight", Shape.of(r, h));
                m.put(t + "linear_y.bias", Shape.of(r));
                m.put(t + "linear_x.weight", Shape.of(r, h));
                m.put(t + "linear_x.bias", Shape.of(r));
                m.put(t + "linear_out.weight", Shape.of(h, r));
                m.put(t + "linear_out.bias", Shape.of(h));
                m.put(t + "conv_1d.weight", Shape.of(r, 1, c.convWidth()));
                m.put(t + "conv_1d.bias", Shape.of(r));
                m.put(t + "rg_lru.recurrent_param", Shape.of(r));
                m.put(t + "rg_lru.input_gate_weight", Shape.of(c.heads(), bw, bw));
                m.put(t + "rg_lru.input_gate_bias", Shape.of(c.heads(), bw));
                m.put(t + "rg_lru.recurrent_gate_weight", Shape.of(c.heads(), bw, bw));
                m.put(t + "rg_lru.recurrent_gate_bias", Shape.of(c.heads(), bw));
            } else {
                int q = c.heads() * c.headDim();
                int kv = c.kvHeads() * c.headDim();
                m.put(t + "q_proj.weight", Shape.of(q, h));
                m.put(t + "k_proj.weight", Shape.of(kv, h));
                m.put(t + "v_proj.weight", Shape.of(kv, h));
                if (c.attentionBias()) {
                    m.put(t + "q_proj.bias", Shape.of(q));
                    m.put(t + "k_proj.bias", Shape.of(kv));
                    m.put(t + "v_proj.bias", Shape.of(kv));
                }
                m.put(t + "o_proj.weight", Shape.of(h, q));
                m.put(t + "o_proj.bias", Shape.of(h));
            }
        }
        return m;
    }

    /**
     * Whether a tensor is one of the large linear layers that weight formats quantise (MLP, linear_x/y/out,
     * q/k/v/o projections). RG-LRU gates, conv, norms, biases and the embedding are not.
     */
    public static boolean isLinear(String name) {
        return name.endsWith(".weight") && (name.contains(".mlp_block.") || name.contains("temporal_block.linear_")
                || name.matches(".*temporal_block\\.[qkvo]_proj\\.weight"));
    }
}
