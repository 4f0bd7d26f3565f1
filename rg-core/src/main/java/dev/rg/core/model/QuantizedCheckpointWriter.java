package dev.rg.core.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.api.format.DenseFormat;
import dev.rg.api.format.RawTensor;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.core.config.ConfigReader;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.io.AtomicFiles;
import dev.rg.core.safetensors.Checkpoint;
import dev.rg.core.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code rg quantize}: converts a checkpoint ahead of time and writes a self-describing model directory
 * (config.json with a {@code quant_method: "rg"} block, one safetensors file, the tokenizer files), which
 * {@link RgCheckpointAdapter} loads without converting anything. The directory appears complete or not at all, and
 * the same input gives the same bytes.
 */
public final class QuantizedCheckpointWriter {
    private static final List<String> COPIED = List.of("tokenizer.model", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "generation_config.json");

    private QuantizedCheckpointWriter() {}

    /** Converts {@code src} to {@code format} (the linear layers, and the head if asked) into the new directory {@code out}. */
    public static void write(Path src, Path out, String format, boolean quantizeHead, LoadProgress progress) {
        write(src, out, format, quantizeHead, null, progress);
    }

    /**
     * Converts {@code src} into the new directory {@code out}: the linear layers to {@code format}, the embedding / LM
     * head as {@link HeadFormat#resolve} decides from {@code quantizeHead} and {@code headFormat}.
     */
    public static void write(Path src, Path out, String format, boolean quantizeHead, String headFormat, LoadProgress progress) {
        WeightFormat target = WeightFormats.byName(format);
        if (!target.canQuantize()) {
            throw new IllegalArgumentException("format '" + format + "' cannot be produced by quantisation (it is read from checkpoints only)");
        }
        try {
            if (Files.exists(out) && (!Files.isDirectory(out) || Files.list(out).findAny().isPresent())) {
                throw new IllegalArgumentException("--out " + out + " exists and is not an empty directory");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + out, e);
        }
        ModelConfig config = ConfigReader.read(src);
        // built in a hidden sibling directory and renamed when complete: a failed run leaves nothing behind
        WeightConversion conversion = new WeightConversion(target, HeadFormat.resolve(target, quantizeHead, headFormat));
        AtomicFiles.writeDirectory(out, tmp -> convert(src, tmp, config, conversion, format, progress));
    }

    private static void convert(Path src, Path out, ModelConfig config, WeightConversion conversion, String format,
            LoadProgress progress) throws IOException {
        // shared: tensors are read and quantised on helper threads (InOrderPipeline), written in checkpoint order
        try (Checkpoint ck = Checkpoint.open(src); Arena arena = Arena.ofShared()) {
            CheckpointWeights source = new CheckpointWeights(ck, config);
            List<ExpectedTensor> expected = WeightNames.tensors(config);
            List<RawTensor> tensors = new ArrayList<>();
            Map<String, String> formats = new TreeMap<>();
            Map<String, Map<String, Double>> params = new TreeMap<>();
            long total = expected.stream().mapToLong(t -> t.shape().elementCount()).sum();
            long[] done = {0};
            InOrderPipeline.run(expected, e -> {
                HostWeight w = conversion.apply(source.read(e.name(), e.shape()), e.role(), arena);
                w.format().validate(w);
                return w;
            }, (e, w) -> {
                if (w.format() instanceof DenseFormat d) {
                    tensors.add(new RawTensor(w.name(), dtype(d), w.shape(), w.part(WeightFormat.DATA), ""));
                } else {
                    formats.put(w.name(), w.format().name());
                    if (!w.params().isEmpty()) {
                        params.put(w.name(), new TreeMap<>(w.params()));
                    }
                    for (Map.Entry<String, java.lang.foreign.MemorySegment> p : w.parts().entrySet()) {
                        String n = p.getKey().equals(WeightFormat.DATA) ? w.name() : w.name() + "." + p.getKey();
                        tensors.add(new RawTensor(n, DType.U8, Shape.of(p.getValue().byteSize()), p.getValue(), ""));
                    }
                }
                done[0] += e.shape().elementCount();
                progress.update("convert", done[0], total);
            });
            long bytes = tensors.stream().mapToLong(t -> t.data().byteSize()).sum();
            SafetensorsWriter.write(out.resolve("model.safetensors"), tensors, Map.of("format", "pt", "rg.format", format),
                    b -> progress.update("write", b, bytes));
            writeConfig(src, out, format, conversion.head(), formats, params);
            for (String f : COPIED) {
                if (Files.exists(src.resolve(f))) {
                    Files.copy(src.resolve(f), out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static DType dtype(DenseFormat d) {
        return switch (d.name()) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> DType.F16;
        };
    }

    private static void writeConfig(Path src, Path out, String format, WeightFormat head, Map<String, String> formats,
            Map<String, Map<String, Double>> params) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode config = (ObjectNode) json.readTree(src.resolve("config.json").toFile());
        ObjectNode q = json.createObjectNode();
        q.put("quant_method", RgCheckpointAdapter.METHOD);
        q.put("rg_format_version", 1);
        q.put("format", format);
        q.put("quantize_head", head != null); // informative: "formats" says what every tensor is
        q.put("head_format", head == null ? HeadFormat.STORED : head.name());
        q.set("formats", json.valueToTree(formats));
        q.set("params", json.valueToTree(params));
        config.set("quantization_config", q);
        json.writeValue(out.resolve("config.json").toFile(), config);
    }
}
