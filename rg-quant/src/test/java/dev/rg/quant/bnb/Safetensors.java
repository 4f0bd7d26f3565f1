package dev.rg.quant.bnb;

import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import dev.rg.quant.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Test-only safetensors reader (memory-mapped) and writer: just enough to hand RawTensors to the adapter and to
 * write tampered copies. rg-core owns the real loader.
 */
final class Safetensors implements AutoCloseable {
    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A tensor held in memory, for building or tampering with a file. */
    record Entry(DType dtype, long[] shape, byte[] data) {
        Entry withData(byte[] d) {
            return new Entry(dtype, shape, d);
        }
    }

    private final Arena arena;
    private final Map<String, RawTensor> tensors;

    private Safetensors(Arena arena, Map<String, RawTensor> tensors) {
        this.arena = arena;
        this.tensors = tensors;
    }

    /** Maps the file and indexes its header. */
    @SuppressWarnings("unchecked")
    static Safetensors open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            long n = all.get(U64_LE, 0);
            byte[] header = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            Map<String, Object> h = (Map<String, Object>) Json.parse(header);
            long base = 8 + n;
            Map<String, RawTensor> out = new LinkedHashMap<>();
            for (var e : h.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                Map<String, Object> t = (Map<String, Object>) e.getValue();
                DType dtype = DType.fromSafetensors((String) t.get("dtype")).orElseThrow();
                long[] shape = ((List<Object>) t.get("shape")).stream().mapToLong(o -> (Long) o).toArray();
                List<Object> off = (List<Object>) t.get("data_offsets");
                long a = (Long) off.get(0);
                long b = (Long) off.get(1);
                if (b - a != Shape.of(shape).elementCount() * dtype.byteSize()) {
                    throw new IllegalStateException("bad offsets for " + e.getKey());
                }
                out.put(e.getKey(), new RawTensor(e.getKey(), dtype, Shape.of(shape), all.asSlice(base + a, b - a),
                        path.getFileName().toString()));
            }
            return new Safetensors(arena, out);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(e);
        }
    }

    RawTensor get(String name) {
        return tensors.get(name);
    }

    Map<String, RawTensor> tensors() {
        return tensors;
    }

    /** Copies every tensor into memory (for tampering), keeping the file's order. */
    Map<String, Entry> entries() {
        Map<String, Entry> m = new LinkedHashMap<>();
        tensors.forEach((k, t) -> m.put(k,
                new Entry(t.dtype(), t.shape().dims(), t.data().toArray(ValueLayout.JAVA_BYTE))));
        return m;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Writes a safetensors file (names sorted, header padded with spaces to 8 bytes). */
    static void write(Path path, Map<String, Entry> tensors) {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        Map<String, Entry> sorted = new TreeMap<>(tensors);
        for (var e : sorted.entrySet()) {
            Entry t = e.getValue();
            h.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"").append(t.dtype().safetensorsName())
                    .append("\",\"shape\":").append(Arrays.toString(t.shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + t.data().length)
                    .append("]}");
            offset += t.data().length;
        }
        h.append('}');
        while (h.length() % 8 != 0) {
            h.append(' ');
        }
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[8 + header.length + (int) offset];
        MemorySegment.ofArray(out).set(U64_LE, 0, header.length);
        System.arraycopy(header, 0, out, 8, header.length);
        int at = 8 + header.length;
        for (Entry t : sorted.values()) {
            System.arraycopy(t.data(), 0, out, at, t.data().length);
            at += t.data().length;
        }
        try {
            Files.write(path, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
