package dev.rg.core.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The architecture of a RecurrentGemma model, with Hugging Face's defaults and quirks resolved (spec §1):
 * {@code mlpWidth = intermediate_size / 2}, {@code lruWidth} defaults to {@code hiddenSize},
 * {@code kvHeads} to {@code heads}, {@code headDim} to {@code hiddenSize / heads}, layer {@code i}'s type is
 * {@code blockTypes[i % blockTypes.size()]}.
 *
 * @param vocabSize          V
 * @param hiddenSize         H
 * @param lruWidth           R
 * @param intermediateSize   HF's intermediate_size (the MLP is half as wide)
 * @param heads              attention heads and RG-LRU gate blocks
 * @param kvHeads            key/value heads
 * @param headDim            head dimension
 * @param layers             decoder layers
 * @param blockTypes         the repeating pattern of temporal blocks
 * @param window             attention window W
 * @param convWidth          conv1d taps K
 * @param logitsSoftCap      soft cap of the logits
 * @param rmsNormEps         RMSNorm epsilon
 * @param partialRotaryFactor fraction of each head that is rotated (only 0.5 occurs)
 * @param ropeTheta          RoPE base
 * @param attentionBias      whether q/k/v projections have biases
 * @param bosId              beginning-of-sequence id
 * @param eosId              end-of-sequence id
 * @param padId              padding id
 * @param torchDtype         the checkpoint's dtype hint ("bfloat16", "float32", ...), may be null
 * @param quantization       config.json's {@code quantization_config} as plain Java values (empty if none)
 */
public record ModelConfig(int vocabSize, int hiddenSize, int lruWidth, int intermediateSize, int heads, int kvHeads,
        int headDim, int layers, List<BlockType> blockTypes, int window, int convWidth, float logitsSoftCap,
        float rmsNormEps, float partialRotaryFactor, float ropeTheta, boolean attentionBias, int bosId, int eosId,
        int padId, String torchDtype, Map<String, Object> quantization) {

    public ModelConfig {
        blockTypes = List.copyOf(blockTypes);
        // not Map.copyOf: bitsandbytes configs hold null values (llm_int8_skip_modules)
        quantization = quantization == null ? Map.of()
                : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(quantization));
        validate(vocabSize, hiddenSize, lruWidth, intermediateSize, heads, kvHeads, headDim, layers, blockTypes, window,
                convWidth, logitsSoftCap, partialRotaryFactor);
        validateRanges(vocabSize, hiddenSize, lruWidth, intermediateSize, heads, convWidth, logitsSoftCap, rmsNormEps, ropeTheta,
                bosId, eosId, padId);
    }

    /**
     * Ranges of the remaining numeric fields, chosen so that no value inside them can overflow the float32
     * arithmetic (a soft cap of 1e39 is +Inf, an epsilon of 0 divides by zero on a zero row, a theta of 0 or below
     * gives NaN angles) or ask for absurd memory. Real RecurrentGemma configs sit far inside them.
     */
    private static void validateRanges(int vocabSize, int hiddenSize, int lruWidth, int intermediateSize, int heads, int convWidth,
            float cap, float eps, float theta, int bosId, int eosId, int padId) {
        range("logits_soft_cap", cap, 1e-2, 1e6);
        range("rms_norm_eps", eps, 1e-12, 1);
        range("rope_theta", theta, 1, 1e12);
        atMost("vocab_size", vocabSize, 1 << 22);
        atMost("hidden_size", hiddenSize, 1 << 16);
        atMost("lru_width", lruWidth, 1 << 16);
        atMost("intermediate_size", intermediateSize, 1 << 20);
        atMost("num_attention_heads", heads, 1 << 12);
        atMost("conv1d_width", convWidth, 1 << 10);
        tokenId("bos_token_id", bosId, vocabSize);
        tokenId("eos_token_id", eosId, vocabSize);
        tokenId("pad_token_id", padId, vocabSize);
    }

    private static void range(String field, float v, double min, double max) {
        if (!(v >= min && v <= max)) {
            throw new ConfigException(field + " must be in [" + min + ", " + max + "], got " + v);
        }
    }

    private static void atMost(String field, int v, int max) {
        if (v > max) {
            throw new ConfigException(field + " must be <= " + max + ", got " + v);
        }
    }

    private static void tokenId(String field, int id, int vocab) {
        if (id < 0 || id >= vocab) {
            throw new ConfigException(field + " must be a token id in [0, vocab_size " + vocab + "), got " + id);
        }
    }

    private static void validate(int vocabSize, int hiddenSize, int lruWidth, int intermediateSize, int heads,
            int kvHeads, int headDim, int layers, List<BlockType> blockTypes, int window, int convWidth, float cap,
            float partialRotaryFactor) {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("lru_width", lruWidth);
        positive("intermediate_size", intermediateSize);
        positive("num_attention_heads", heads);
        positive("num_key_value_heads", kvHeads);
        positive("head_dim", headDim);
        positive("num_hidden_layers", layers);
        positive("attention_window_size", window);
        positive("conv1d_width", convWidth);
        if (blockTypes.isEmpty()) {
            throw new ConfigException("block_types must not be empty");
        }
        if (intermediateSize % 2 != 0) {
            throw new ConfigException("intermediate_size must be even (the MLP is intermediate_size/2 wide), got "
                    + intermediateSize);
        }
        if (heads % kvHeads != 0) {
            throw new ConfigException("num_attention_heads (" + heads + ") must be a multiple of num_key_value_heads ("
                    + kvHeads + ")");
        }
        if ((long) heads * headDim != hiddenSize) {
            throw new ConfigException("num_attention_heads * head_dim (" + heads + " * " + headDim
                    + ") must equal hidden_size (" + hiddenSize + "): the attention output is viewed as [.., hidden_size]");
        }
        if (lruWidth % heads != 0) {
            throw new ConfigException("lru_width (" + lruWidth + ") must be a multiple of num_attention_heads (" + heads
                    + "): the RG-LRU gates are block-diagonal with one block per head");
        }
        if (partialRotaryFactor != 0.5f) {
            throw new ConfigException("partial_rotary_factor must be 0.5 (the only value RecurrentGemma supports), got "
                    + partialRotaryFactor);
        }
        if (headDim % 4 != 0) {
            throw new ConfigException("head_dim must be a multiple of 4 for the half-rotary RoPE, got " + headDim);
        }
        // Bounds that keep a typo from asking for terabytes: 4x the 9B model's sizes.
        if ((long) vocabSize * hiddenSize > 4L * 256000 * 4096 || layers > 1024 || window > (1 << 20)) {
            throw new ConfigException("config is implausibly large (vocab " + vocabSize + " x hidden " + hiddenSize
                    + ", " + layers + " layers, window " + window + ")");
        }
    }

    private static void positive(String field, int value) {
        if (value < 1) {
            throw new ConfigException(field + " must be >= 1, got " + value);
        }
    }

    /** Width of the MLP ({@code intermediate_size / 2}, spec quirk 3). */
    public int mlpWidth() {
        return intermediateSize / 2;
    }

    /** Block type of layer {@code i}. */
    public BlockType blockType(int layer) {
        return blockTypes.get(layer % blockTypes.size());
    }

    /** Rotated dimensions per head. */
    public int rotaryDim() {
        return (int) (headDim * partialRotaryFactor);
    }

    /** The embedding scale: sqrt(H) rounded to bfloat16 (spec quirk 1), e.g. 50.5 for H=2560. */
    public float embeddingScale() {
        return dev.rg.api.format.Floats.roundToBf16((float) Math.sqrt(hiddenSize));
    }

    /** Number of layers of each type. */
    public int count(BlockType type) {
        int n = 0;
        for (int i = 0; i < layers; i++) {
            if (blockType(i) == type) {
                n++;
            }
        }
        return n;
    }

    /** The 2B architecture (google/recurrentgemma-2b). */
    public static ModelConfig preset2b() {
        return preset(256000, 2560, 2560, 15360, 10, 1, 256, 26);
    }

    /** The 9B architecture (google/recurrentgemma-9b). */
    public static ModelConfig preset9b() {
        return preset(256000, 4096, 4096, 24576, 16, 1, 256, 38);
    }

    /** A small model of the same structure, for quick runs. */
    public static ModelConfig presetTiny() {
        return preset(4096, 256, 256, 1536, 4, 1, 64, 6);
    }

    /** A preset by name: {@code 2b}, {@code 9b} or {@code tiny}. */
    public static ModelConfig preset(String name) {
        return switch (name) {
            case "2b" -> preset2b();
            case "9b" -> preset9b();
            case "tiny" -> presetTiny();
            default -> throw new ConfigException("unknown preset '" + name + "' (known: 2b, 9b, tiny)");
        };
    }

    private static ModelConfig preset(int v, int h, int r, int i, int heads, int kv, int hd, int layers) {
        return new ModelConfig(v, h, r, i, heads, kv, hd, layers,
                List.of(BlockType.RECURRENT, BlockType.RECURRENT, BlockType.ATTENTION), 2048, 4, 30f, 1e-6f, 0.5f,
                10000f, false, 2, 1, 0, "bfloat16", Map.of());
    }

    /** Total parameters (embedding counted once: it is tied to the LM head). */
    public long parameterCount() {
        long n = (long) vocabSize * hiddenSize + hiddenSize;
        long mlp = 2L * mlpWidth() * hiddenSize + 2L * mlpWidth() + (long) hiddenSize * mlpWidth() + hiddenSize;
        int bw = lruWidth / heads;
        long rec = 2L * lruWidth * hiddenSize + 2L * lruWidth + (long) hiddenSize * lruWidth + hiddenSize
                + (long) lruWidth * convWidth + lruWidth + lruWidth + 2L * heads * bw * bw + 2L * lruWidth;
        long att = (long) heads * headDim * hiddenSize + 2L * kvHeads * headDim * hiddenSize
                + (long) hiddenSize * heads * headDim + hiddenSize
                + (attentionBias ? (long) heads * headDim + 2L * kvHeads * headDim : 0);
        for (int l = 0; l < layers; l++) {
            n += 2L * hiddenSize + mlp + (blockType(l) == BlockType.RECURRENT ? rec : att);
        }
        return n;
    }

    /** A copy with another number of layers (for benchmarks and tests). */
    public ModelConfig withLayers(int newLayers) {
        return copy(vocabSize, newLayers);
    }

    /** A copy with another vocabulary size (a random model served with a smaller tokenizer); validated as any config. */
    public ModelConfig withVocab(int newVocab) {
        return copy(newVocab, layers);
    }

    private ModelConfig copy(int newVocab, int newLayers) {
        return new ModelConfig(newVocab, hiddenSize, lruWidth, intermediateSize, heads, kvHeads, headDim, newLayers,
                blockTypes, window, convWidth, logitsSoftCap, rmsNormEps, partialRotaryFactor, ropeTheta, attentionBias,
                bosId, eosId, padId, torchDtype, quantization);
    }

    /** Block types of every layer, in order. */
    public List<BlockType> layerTypes() {
        List<BlockType> out = new ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            out.add(blockType(l));
        }
        return out;
    }
}
