package dev.rg.core.model;

import dev.rg.api.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Finiteness scans of host floats and of stored tensor bytes (f64, f32, bf16, f16: an all-ones exponent is NaN or infinite). */
public final class Finite {
    private Finite() {}

    /** Index of the first NaN or infinite value of {@code x[from .. from+n)}, or -1. */
    public static int firstNonFinite(float[] x, int from, int n) {
        for (int i = from; i < from + n; i++) {
            if (!Float.isFinite(x[i])) {
                return i;
            }
        }
        return -1;
    }

    /** "NaN", "+Inf" or "-Inf". */
    public static String describe(float v) {
        return Float.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
    }

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Element index of the first non-finite value of a stored tensor ({@code F32}, {@code BF16}, {@code F16},
     * little-endian), or -1; other dtypes (integers, packed quantised codes) cannot hold one and give -1.
     */
    public static long firstNonFinite(MemorySegment data, DType dtype) {
        switch (dtype) {
            case F32 -> {
                long n = data.byteSize() / 4;
                for (long i = 0; i < n; i++) {
                    if ((data.get(I32, i * 4) & 0x7f80_0000) == 0x7f80_0000) {
                        return i;
                    }
                }
            }
            case BF16 -> {
                long n = data.byteSize() / 2;
                for (long i = 0; i < n; i++) {
                    if ((data.get(I16, i * 2) & 0x7f80) == 0x7f80) {
                        return i;
                    }
                }
            }
            case F16 -> {
                long n = data.byteSize() / 2;
                for (long i = 0; i < n; i++) {
                    if ((data.get(I16, i * 2) & 0x7c00) == 0x7c00) {
                        return i;
                    }
                }
            }
            case F64 -> {
                long n = data.byteSize() / 8;
                for (long i = 0; i < n; i++) {
                    if ((data.get(I64, i * 8) & 0x7ff0_0000_0000_0000L) == 0x7ff0_0000_0000_0000L) {
                        return i;
                    }
                }
            }
            default -> {
                return -1;
            }
        }
        return -1;
    }
}
