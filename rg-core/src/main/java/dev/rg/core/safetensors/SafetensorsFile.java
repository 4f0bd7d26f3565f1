package dev.rg.core.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rg.core.io.ModelFiles;
import dev.rg.core.io.StrictJson;
import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One memory-mapped safetensors file: {@code u64-LE header length N}, N bytes of JSON, then the data. The
 * whole file is mapped once (no 2 GB limit, no copy); each tensor is a bounds-checked slice of the mapping.
 * Opening checks the header completely: length within the file, known dtypes, shapes, offsets inside the
 * data area, sizes matching shape x dtype, and no two tensors overlapping.
 */
public final class SafetensorsFile {
    /** Real headers are a few hundred KB; this bound keeps a corrupt length from allocating gigabytes. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path path;
    private final Map<String, RawTensor> tensors;
    private final Map<String, String> metadata;
    private final long headerBytes;

    private SafetensorsFile(Path path, Map<String, RawTensor> tensors, Map<String, String> metadata, long headerBytes) {
        this.path = path;
        this.tensors = tensors;
        this.metadata = metadata;
        this.headerBytes = headerBytes;
    }

    /** Maps and checks {@code file}; the mapping lives as long as {@code arena}. */
    public static SafetensorsFile open(Path file, Arena arena) {
        ModelFiles.requireRegularFile(file, SafetensorsException::new); // a FIFO would block the open forever
        MemorySegment mapped;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            // an empty file cannot be mapped; an empty heap segment (not a restricted reinterpret) stands in for it
            mapped = size == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot open: " + e.getMessage(), e);
        }
        return parse(file, mapped);
    }

    /** Parses an in-memory safetensors image (e.g. for tests); {@code file} names it in errors. */
    public static SafetensorsFile parse(Path file, MemorySegment bytes) {
        long size = bytes.byteSize();
        if (size < 8) {
            throw new SafetensorsException(file + ": truncated: " + size + " bytes, a safetensors file starts with an 8-byte header length");
        }
        long n = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 2 || n > size - 8) {
            throw new SafetensorsException(file + ": header length " + Long.toUnsignedString(n) + " does not fit in a file of "
                    + size + " bytes (truncated or not a safetensors file)");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new SafetensorsException(file + ": header length " + n + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        }
        byte[] header = bytes.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root = StrictJson.read(header, file + " (header)", SafetensorsException::new);
        if (!root.isObject()) {
            throw new SafetensorsException(file + ": header must be a JSON object");
        }
        MemorySegment data = bytes.asSlice(8 + n);
        Map<String, RawTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        List<String> rangeNames = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                if (e.getValue().isObject()) {
                    e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                }
                continue;
            }
            RawTensor t = tensor(file, e.getKey(), e.getValue(), data, ranges);
            rangeNames.add(e.getKey());
            tensors.put(e.getKey(), t);
        }
        checkOverlaps(file, ranges, rangeNames);
        return new SafetensorsFile(file, Collections.unmodifiableMap(tensors), Map.copyOf(metadata), n);
    }

    private static RawTensor tensor(Path file, String name, JsonNode node, MemorySegment data, List<long[]> ranges) {
        String where = file + ": tensor '" + name + "'";
        if (!node.isObject()) {
            throw new SafetensorsException(where + ": entry must be an object with dtype, shape and data_offsets");
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new SafetensorsException(where + ": missing dtype");
        }
        DType dtype = DType.fromSafetensors(dt.textValue()).orElseThrow(() -> new SafetensorsException(
                where + ": unknown dtype '" + dt.textValue() + "' (known: F32, F16, BF16, F64, I8, U8, I16, I32, I64, BOOL)"));
        JsonNode sh = node.get("shape");
        if (sh == null || !sh.isArray()) {
            throw new SafetensorsException(where + ": missing shape");
        }
        long[] dims = new long[sh.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw new SafetensorsException(where + ": shape entries must be non-negative integers, got " + sh);
            }
            dims[i] = d.longValue();
        }
        Shape shape;
        long bytes;
        try {
            shape = Shape.of(dims);
            bytes = Math.multiplyExact(shape.elementCount(), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsException(where + ": shape " + sh + " overflows", e);
        }
        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).canConvertToLong()
                || !off.get(1).canConvertToLong() || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()) {
            throw new SafetensorsException(where + ": data_offsets must be [begin, end]");
        }
        long begin = off.get(0).longValue();
        long end = off.get(1).longValue();
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end + "] lie outside the data area of "
                    + data.byteSize() + " bytes (truncated file?)");
        }
        if (end - begin != bytes) {
            throw new SafetensorsException(where + ": " + dtype.safetensorsName() + " " + shape + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + "] give " + (end - begin));
        }
        ranges.add(new long[] {begin, end, ranges.size()});
        return new RawTensor(name, dtype, shape, data.asSlice(begin, bytes), file.toString());
    }

    private static void checkOverlaps(Path file, List<long[]> ranges, List<String> names) {
        List<long[]> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.<long[]>comparingLong(r -> r[0]).thenComparingLong(r -> r[1]));
        for (int i = 1; i < sorted.size(); i++) {
            long[] prev = sorted.get(i - 1);
            long[] cur = sorted.get(i);
            if (cur[0] < prev[1] && cur[1] > cur[0] && prev[1] > prev[0]) {
                throw new SafetensorsException(file + ": tensors '" + names.get((int) prev[2]) + "' and '"
                        + names.get((int) cur[2]) + "' overlap (data_offsets [" + prev[0] + ", " + prev[1] + "] and ["
                        + cur[0] + ", " + cur[1] + "])");
            }
        }
    }

    public Path path() {
        return path;
    }

    /** Tensors in header order. */
    public Map<String, RawTensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} strings. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Size of the JSON header in bytes. */
    public long headerBytes() {
        return headerBytes;
    }
}
