package dev.rg.core.model;

import dev.rg.api.format.CheckpointTensors;
import dev.rg.api.format.RawTensor;
import dev.rg.core.io.PlainJson;
import java.lang.foreign.ValueLayout;
import java.util.function.Function;

/**
 * The {@link CheckpointTensors} that core hands a {@link dev.rg.api.format.CheckpointAdapter}: tensors looked up in
 * the checkpoint, JSON in a tensor parsed by {@link PlainJson} (so format plugins carry no JSON parser).
 */
public final class AdapterTensors implements CheckpointTensors {
    private final Function<String, RawTensor> lookup;

    private AdapterTensors(Function<String, RawTensor> lookup) {
        this.lookup = lookup;
    }

    /** Tensors from {@code lookup} (null when absent), e.g. {@code checkpoint::find} or a test's map. */
    public static AdapterTensors of(Function<String, RawTensor> lookup) {
        return new AdapterTensors(lookup);
    }

    @Override
    public RawTensor find(String name) {
        return lookup.apply(name);
    }

    @Override
    public Object json(RawTensor tensor) {
        String file = tensor.file() == null || tensor.file().isEmpty() ? "" : tensor.file() + ": ";
        return PlainJson.parse(tensor.data().toArray(ValueLayout.JAVA_BYTE), file + "tensor '" + tensor.name() + "'");
    }
}
