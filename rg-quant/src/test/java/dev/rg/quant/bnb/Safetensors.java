package dev.rg.quant.bnb;

import dev.rg.api.format.CheckpointTensors;
import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import dev.rg.core.model.AdapterTensors;
import dev.rg.core.safetensors.SafetensorsFile;
import dev.rg.core.safetensors.SafetensorsWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tests' access to safetensors files, through rg-core's reader and writer (as the runtime reads them): a mapped
 * file whose tensors an adapter sees as the runtime hands them over ({@link #tensors}), and in-memory copies to
 * tamper with and write back.
 */
final class Safetensors implements AutoCloseable {
    /** A tensor held in memory, for building or tampering with a file. */
    record Entry(DType dtype, long[] shape, byte[] data) {
        Entry withData(byte[] d) {
            return new Entry(dtype, shape, d);
        }
    }

    private final Arena arena;
    private final SafetensorsFile file;

    private Safetensors(Arena arena, SafetensorsFile file) {
        this.arena = arena;
        this.file = file;
    }

    /** Maps and checks the file with rg-core's reader. */
    static Safetensors open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            return new Safetensors(arena, SafetensorsFile.open(path, arena));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    RawTensor get(String name) {
        return file.tensors().get(name);
    }

    /** The file's tensors as the runtime hands them to an adapter (JSON parsed by rg-core). */
    CheckpointTensors tensors() {
        return AdapterTensors.of(this::get);
    }

    Map<String, RawTensor> all() {
        return file.tensors();
    }

    /** Copies every tensor into memory (for tampering), keeping the file's order. */
    Map<String, Entry> entries() {
        Map<String, Entry> m = new LinkedHashMap<>();
        file.tensors().forEach((k, t) -> m.put(k,
                new Entry(t.dtype(), t.shape().dims(), t.data().toArray(ValueLayout.JAVA_BYTE))));
        return m;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Writes a safetensors file with rg-core's writer. */
    static void write(Path path, Map<String, Entry> tensors) {
        List<RawTensor> out = new ArrayList<>();
        tensors.forEach((name, e) -> out.add(new RawTensor(name, e.dtype(), Shape.of(e.shape()),
                MemorySegment.ofArray(e.data()), "")));
        SafetensorsWriter.write(path, out, Map.of("format", "pt"), bytes -> {});
    }
}
