package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.I;
import static dev.rg.backend.vector.Simd.L;
import static dev.rg.backend.vector.Simd.LE;
import static dev.rg.backend.vector.Simd.S;

import dev.rg.api.format.FormatCodes;
import dev.rg.api.format.FormatLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Reads the dense formats ({@code f32}, {@code bf16}, {@code f16}) straight from a weight's segment: single
 * elements, runs converted into a float array, and float vectors. Every index is a {@code long} element index
 * into the flattened weight, so a weight larger than 2 GB is addressed correctly.
 *
 * <p>Used for the small weights (norm scales, biases, conv taps, RG-LRU gates) and by the dense
 * {@link RowDot}s for embedding rows.
 */
final class DenseWeights {
    private DenseWeights() {}

    /** Format codes: those of the SPI ({@link FormatCodes}), so that {@code switch} labels stay constants. */
    static final int F32 = FormatCodes.F32;
    static final int BF16 = FormatCodes.BF16;
    static final int F16 = FormatCodes.F16;

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The code of a dense encoding, or -1 for a quantised one. */
    static int code(FormatLayout.ElementEncoding encoding) {
        return switch (encoding) {
            case F32, BF16, F16 -> encoding.code();
            case INT8_SYMMETRIC, CODE_BOOK_4BIT -> -1;
        };
    }

    /** Bytes per element of a format code. */
    static int elementBytes(int code) {
        return code == F32 ? 4 : 2;
    }

    /** Element {@code index} as a float. */
    static float get(MemorySegment s, int code, long index) {
        return switch (code) {
            case F32 -> s.get(F32_LE, index * 4);
            case BF16 -> Float.intBitsToFloat((s.get(I16_LE, index * 2) & 0xFFFF) << 16);
            default -> Float.float16ToFloat(s.get(I16_LE, index * 2));
        };
    }

    /** {@code L} consecutive elements from {@code index} as a float vector. */
    static FloatVector load(MemorySegment s, int code, long index) {
        if (code == F32) {
            return FloatVector.fromMemorySegment(F, s, index * 4, LE);
        }
        IntVector h = widen(s, index * 2);
        return code == BF16 ? bf16(h) : f16(h.and(0xFFFF));
    }

    /** {@code L} little-endian shorts at {@code byteOffset}, sign-extended to ints. */
    static IntVector widen(MemorySegment s, long byteOffset) {
        return (IntVector) ShortVector.fromMemorySegment(S, s, byteOffset, LE).convertShape(VectorOperators.S2I, I, 0);
    }

    /** bf16 bits in the low 16 bits of each lane (upper bits ignored) to floats. */
    static FloatVector bf16(IntVector h) {
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** bf16 bits in the high 16 bits of each lane (lower bits ignored) to floats. */
    static FloatVector bf16High(IntVector h) {
        return h.and(0xFFFF0000).reinterpretAsFloats();
    }

    /**
     * IEEE binary16 bits (in the low 16 bits of each lane, upper bits zero) to floats, exactly: the magnitude
     * shifted into float position is scaled by 2^112 (exact for normals and subnormals alike), and Inf/NaN get
     * the all-ones exponent.
     */
    static FloatVector f16(IntVector h) {
        IntVector mag = h.and(0x7FFF);
        IntVector shifted = mag.lanewise(VectorOperators.LSHL, 13);
        IntVector bits = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = mag.compare(VectorOperators.GE, 0x7C00);
        bits = bits.blend(shifted.or(0x7F800000), special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /**
     * Converts {@code count} elements from {@code index} into {@code dst[off ..]}. The conversions are written out in
     * each loop rather than calling {@link #bf16}/{@link #f16}: a vector passed to or returned from a helper that C2
     * does not inline is boxed (an allocation per vector), and whether a 78-byte helper like {@code f16} is inlined
     * depends on how hot its call site is in the profile of the moment (which the mix of formats in use changes).
     */
    static void toFloats(MemorySegment s, int code, long index, float[] dst, int off, int count) {
        int c = 0;
        int bound = count - L;
        switch (code) {
            case F32 -> {
                for (; c <= bound; c += L) {
                    FloatVector.fromMemorySegment(F, s, (index + c) * 4, LE).intoArray(dst, off + c);
                }
            }
            case BF16 -> {
                for (; c <= bound; c += L) {
                    ((IntVector) ShortVector.fromMemorySegment(S, s, (index + c) * 2, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + c);
                }
            }
            default -> {
                for (; c <= bound; c += L) {
                    // f16(h) written out, see the method's comment
                    IntVector h = ((IntVector) ShortVector.fromMemorySegment(S, s, (index + c) * 2, LE)
                            .convertShape(VectorOperators.S2I, I, 0)).and(0xFFFF);
                    IntVector mag = h.and(0x7FFF);
                    IntVector shifted = mag.lanewise(VectorOperators.LSHL, 13);
                    IntVector bits = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
                    bits = bits.blend(shifted.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00));
                    bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().intoArray(dst, off + c);
                }
            }
        }
        for (; c < count; c++) {
            dst[off + c] = get(s, code, index + c);
        }
    }

    /** All elements of a small weight (at most {@code dst.length}) into {@code dst[0 ..]}; returns the count. */
    static int toFloats(VectorWeight w, float[] dst) {
        int n = Math.toIntExact(w.elements());
        float[] small = w.smallFloats();
        if (small != null) {
            System.arraycopy(small, 0, dst, 0, n); // converted once at load
        } else {
            toFloats(w.data(), w.denseCode(), 0, dst, 0, n);
        }
        return n;
    }
}
