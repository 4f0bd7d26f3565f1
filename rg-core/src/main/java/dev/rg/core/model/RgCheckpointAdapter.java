package dev.rg.core.model;

import dev.rg.api.format.CheckpointAdapter;
import dev.rg.api.format.CheckpointTensors;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RawTensor;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Reads checkpoints written by {@code rg quantize}: config.json's {@code quantization_config} has
 * {@code quant_method: "rg"}, a {@code formats} map (tensor name to weight format) and a {@code params} map
 * (tensor name to the format's scalar parameters). A quantised weight {@code P} is stored as U8 tensors:
 * {@code P} holds its {@code data} part and {@code P.<part>} each other part of its format's layout.
 */
public final class RgCheckpointAdapter implements CheckpointAdapter {
    /** The quant_method value. */
    public static final String METHOD = "rg";

    private Map<String, Object> formats = Map.of();
    private Map<String, Object> params = Map.of();

    @Override
    public String name() {
        return METHOD;
    }

    @Override
    @SuppressWarnings("unchecked")
    public boolean accepts(Map<String, Object> q) {
        if (!METHOD.equals(q.get("quant_method"))) {
            return false;
        }
        Object f = q.get("formats");
        Object p = q.getOrDefault("params", Map.of());
        if (!(f instanceof Map) || !(p instanceof Map)) {
            throw new InvalidWeightException("config.json: quantization_config of quant_method 'rg' needs objects 'formats' and 'params'");
        }
        formats = (Map<String, Object>) f;
        params = (Map<String, Object>) p;
        return true;
    }

    @Override
    public Optional<HostWeight> assemble(String name, Shape expected, CheckpointTensors tensors) {
        Object formatName = formats.get(name);
        if (formatName == null) {
            return Optional.empty();
        }
        WeightFormat format = WeightFormats.find(formatName.toString()).orElseThrow(() -> new InvalidWeightException(
                "tensor '" + name + "' is stored in format '" + formatName + "', which no installed plugin provides (known: "
                        + WeightFormats.all().keySet() + ")"));
        Map<String, MemorySegment> parts = new LinkedHashMap<>();
        for (String part : format.layout().parts()) {
            String tensorName = part.equals(WeightFormat.DATA) ? name : name + "." + part;
            RawTensor t = tensors.find(tensorName);
            if (t == null) {
                throw new InvalidWeightException("tensor '" + tensorName + "' (part '" + part + "' of " + format.name() + " weight '"
                        + name + "') is missing");
            }
            if (t.dtype() != DType.U8 || t.shape().rank() != 1) {
                throw new InvalidWeightException(t.file() + ": tensor '" + tensorName + "' must be U8 of rank 1, got " + t.dtype() + " "
                        + t.shape());
            }
            parts.put(part, t.data());
        }
        Map<String, Double> ps = new LinkedHashMap<>();
        if (params.get(name) instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getValue() instanceof Number n)) {
                    throw new InvalidWeightException("config.json: parameter '" + e.getKey() + "' of '" + name + "' must be a number");
                }
                ps.put(e.getKey().toString(), n.doubleValue());
            }
        }
        HostWeight w = new HostWeight(name, expected, format, parts, ps);
        format.validate(w);
        return Optional.of(w);
    }
}
