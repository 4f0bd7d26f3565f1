package dev.rg.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rg.core.io.PlainJson;
import dev.rg.core.io.ModelFiles;
import dev.rg.core.io.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a Hugging Face {@code config.json} of {@code model_type: recurrent_gemma} into a {@link ModelConfig},
 * applying the defaults of {@code RecurrentGemmaConfig}. Every type error names the file and the field.
 */
public final class ConfigReader {
    /** Largest config.json we read: real ones are ~1 KB. */
    private static final long MAX_BYTES = 1 << 20;

    private ConfigReader() {}

    /** Reads {@code dir/config.json}. */
    public static ModelConfig read(Path dir) {
        Path file = dir.resolve("config.json");
        ModelFiles.requireRegularFile(file, ConfigException::new);
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new ConfigException(file + ": larger than " + MAX_BYTES + " bytes, not a model config");
            }
            return parse(Files.readAllBytes(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new ConfigException("no config.json in " + dir + " (expected a Hugging Face model directory)", e);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses the bytes of a config.json (strict UTF-8); {@code source} names it in errors. */
    public static ModelConfig parse(byte[] utf8, String source) {
        return parse(StrictJson.decode(utf8, source, ConfigException::new), source);
    }

    /** Parses config.json text; {@code source} names it in errors. */
    public static ModelConfig parse(String json, String source) {
        JsonNode root = StrictJson.read(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), source, ConfigException::new);
        if (!root.isObject()) {
            throw new ConfigException(source + ": expected a JSON object");
        }
        Fields f = new Fields(root, source);
        String modelType = f.string("model_type", null);
        if (modelType != null && !modelType.equals("recurrent_gemma")) {
            throw new ConfigException(source + ": model_type is '" + modelType + "', rg runs 'recurrent_gemma' only");
        }
        int hidden = f.integer("hidden_size", 2560);
        int heads = f.integer("num_attention_heads", 10);
        String activation = f.string("hidden_activation", "gelu_pytorch_tanh");
        if (!activation.equals("gelu_pytorch_tanh")) {
            throw new ConfigException(source + ": hidden_activation '" + activation + "' is not supported (only gelu_pytorch_tanh)");
        }
        try {
            return new ModelConfig(
                    f.integer("vocab_size", 256000),
                    hidden,
                    f.integer("lru_width", hidden),
                    f.integer("intermediate_size", 3 * 2560),
                    heads,
                    f.integer("num_key_value_heads", heads),
                    f.integer("head_dim", heads > 0 ? hidden / heads : 0), // heads < 1 is refused by the validation (found by fuzzing)
                    f.integer("num_hidden_layers", 26),
                    f.blockTypes(),
                    f.integer("attention_window_size", 2048),
                    f.integer("conv1d_width", 4),
                    f.number("logits_soft_cap", 30.0),
                    f.number("rms_norm_eps", 1e-6),
                    f.number("partial_rotary_factor", 0.5),
                    f.number("rope_theta", 10000.0),
                    f.bool("attention_bias", false),
                    f.integer("bos_token_id", 2),
                    f.integer("eos_token_id", 1),
                    f.integer("pad_token_id", 0),
                    f.string("torch_dtype", null),
                    f.object("quantization_config"));
        } catch (ConfigException e) {
            throw e.getMessage().startsWith(source) ? e : new ConfigException(source + ": " + e.getMessage(), e);
        }
    }

    /** Typed access to the fields of one JSON object with precise errors. */
    private record Fields(JsonNode root, String source) {
        private JsonNode get(String name) {
            JsonNode n = root.get(name);
            return n == null || n.isNull() ? null : n;
        }

        private ConfigException wrongType(String name, String expected, JsonNode n) {
            return new ConfigException(source + ": field '" + name + "' must be " + expected + ", got "
                    + n.getNodeType().name().toLowerCase(Locale.ROOT) + " " + n);
        }

        int integer(String name, int dflt) {
            JsonNode n = get(name);
            if (n == null) {
                return dflt;
            }
            if (n.isIntegralNumber() && n.canConvertToInt()) {
                return n.intValue();
            }
            // Some writers print integral floats (e.g. 2560.0); accept those, nothing else.
            if (n.isFloatingPointNumber() && n.doubleValue() == Math.rint(n.doubleValue())
                    && Math.abs(n.doubleValue()) < Integer.MAX_VALUE) {
                return (int) n.doubleValue();
            }
            if (name.equals("eos_token_id") && n.isArray() && !n.isEmpty() && n.get(0).canConvertToInt()) {
                return n.get(0).intValue(); // newer configs allow a list of EOS ids; the first is the EOS
            }
            throw wrongType(name, "an integer", n);
        }

        float number(String name, double dflt) {
            JsonNode n = get(name);
            if (n == null) {
                return (float) dflt;
            }
            if (!n.isNumber()) {
                throw wrongType(name, "a number", n);
            }
            float f = (float) n.doubleValue();
            if (!Float.isFinite(f)) {
                throw new ConfigException(source + ": field '" + name + "' must be a finite float32 number, got " + n);
            }
            return f;
        }

        boolean bool(String name, boolean dflt) {
            JsonNode n = get(name);
            if (n == null) {
                return dflt;
            }
            if (!n.isBoolean()) {
                throw wrongType(name, "true or false", n);
            }
            return n.booleanValue();
        }

        String string(String name, String dflt) {
            JsonNode n = get(name);
            if (n == null) {
                return dflt;
            }
            if (!n.isTextual()) {
                throw wrongType(name, "a string", n);
            }
            return n.textValue();
        }

        List<BlockType> blockTypes() {
            JsonNode n = get("block_types");
            if (n == null) {
                return List.of(BlockType.RECURRENT, BlockType.RECURRENT, BlockType.ATTENTION);
            }
            if (!n.isArray()) {
                throw wrongType("block_types", "a list of \"recurrent\"/\"attention\"", n);
            }
            List<BlockType> out = new ArrayList<>();
            for (JsonNode e : n) {
                String s = e.isTextual() ? e.textValue() : "";
                switch (s) {
                    case "recurrent" -> out.add(BlockType.RECURRENT);
                    case "attention" -> out.add(BlockType.ATTENTION);
                    default -> throw new ConfigException(source + ": block_types entries must be \"recurrent\" or \"attention\", got " + e);
                }
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> object(String name) {
            JsonNode n = get(name);
            if (n == null) {
                return Map.of();
            }
            if (!n.isObject()) {
                throw wrongType(name, "an object", n);
            }
            return (Map<String, Object>) PlainJson.plain(n); // the plain values every adapter gets, JSON blobs included
        }
    }
}
