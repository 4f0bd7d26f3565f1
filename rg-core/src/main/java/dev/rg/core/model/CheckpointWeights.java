package dev.rg.core.model;

import dev.rg.api.format.CheckpointAdapter;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RawTensor;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.safetensors.Checkpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Reads weights from a checkpoint: first through the {@link CheckpointAdapter}s that accept it (e.g.
 * bitsandbytes 4-bit), otherwise as a plain F32/BF16/F16 tensor. Name, shape and dtype are checked.
 */
final class CheckpointWeights {
    private final Checkpoint checkpoint;
    private final List<CheckpointAdapter> adapters;
    private final AdapterTensors tensors;

    CheckpointWeights(Checkpoint checkpoint, ModelConfig config) {
        this.checkpoint = checkpoint;
        this.adapters = adapters(config, checkpoint);
        this.tensors = AdapterTensors.of(checkpoint::find);
    }

    private static List<CheckpointAdapter> adapters(ModelConfig config, Checkpoint checkpoint) {
        List<CheckpointAdapter> out = new ArrayList<>();
        for (CheckpointAdapter a : ServiceLoader.load(CheckpointAdapter.class, CheckpointWeights.class.getClassLoader())) {
            if (a.accepts(config.quantization())) {
                out.add(a);
            }
        }
        if (!config.quantization().isEmpty() && out.isEmpty()) {
            throw new InvalidWeightException(checkpoint.dir().resolve("config.json") + ": quantization_config "
                    + config.quantization().get("quant_method") + " is not readable by any installed format plugin"
                    + " (bitsandbytes 4-bit needs the rg-quant module on the module path)");
        }
        return out;
    }

    HostWeight read(String name, Shape expected) {
        for (CheckpointAdapter a : adapters) {
            Optional<HostWeight> w = a.assemble(name, expected, tensors);
            if (w.isPresent()) {
                return w.get();
            }
        }
        RawTensor t = checkpoint.find(name);
        if (t == null) {
            throw new InvalidWeightException("checkpoint " + checkpoint.dir() + " has no tensor '" + name + "' (expected shape "
                    + expected + ")");
        }
        if (!t.shape().equals(expected)) {
            throw new InvalidWeightException(t.file() + ": tensor '" + name + "' has shape " + t.shape() + " but the config needs "
                    + expected);
        }
        WeightFormat format = switch (t.dtype()) {
            case F32 -> WeightFormats.f32();
            case BF16 -> WeightFormats.bf16();
            case F16 -> WeightFormats.f16();
            default -> throw new InvalidWeightException(t.file() + ": tensor '" + name + "' has dtype " + t.dtype()
                    + "; weights must be F32, BF16 or F16 (or a quantised layout a format plugin reads)");
        };
        return HostWeight.dense(name, t.shape(), format, t.data());
    }
}
