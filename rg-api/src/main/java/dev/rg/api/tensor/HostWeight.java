package dev.rg.api.tensor;

import dev.rg.api.format.WeightFormat;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A weight in host memory, as read from a checkpoint (usually a slice of a memory-mapped file) or produced
 * by quantisation. Its bytes are split into named parts whose meaning the {@link #format()} defines, e.g.
 * a dense weight has one part {@code "data"}; NF4 has {@code "data"} (packed codes) and {@code "absmax"}.
 * Scalar parameters of a format (such as a double-quantisation offset) go in {@link #params()}.
 *
 * @param name   the checkpoint name
 * @param shape  the logical shape (of the dequantised tensor)
 * @param format the format that interprets the parts
 * @param parts  named byte ranges, little-endian
 * @param params named scalar parameters of the format
 */
public record HostWeight(String name, Shape shape, WeightFormat format, Map<String, MemorySegment> parts,
        Map<String, Double> params) implements Weight {

    public HostWeight {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(format, "format");
        parts = Map.copyOf(parts);
        params = Map.copyOf(params);
    }

    /** A weight with a single {@code "data"} part and no parameters. */
    public static HostWeight dense(String name, Shape shape, WeightFormat format, MemorySegment data) {
        return new HostWeight(name, shape, format, Map.of(WeightFormat.DATA, data), Map.of());
    }

    /** The part with the given name. */
    public MemorySegment part(String partName) {
        MemorySegment s = parts.get(partName);
        if (s == null) {
            throw new IllegalArgumentException("weight '" + name + "' in format " + format.name()
                    + " has no part '" + partName + "' (has " + new TreeMap<>(parts).keySet() + ")");
        }
        return s;
    }

    /** The scalar parameter with the given name. */
    public double param(String paramName) {
        Double v = params.get(paramName);
        if (v == null) {
            throw new IllegalArgumentException("weight '" + name + "' in format " + format.name()
                    + " has no parameter '" + paramName + "'");
        }
        return v;
    }

    @Override
    public long byteSize() {
        long n = 0;
        for (MemorySegment s : parts.values()) {
            n += s.byteSize();
        }
        return n;
    }
}
