package dev.rg.backend.vector;

import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every kernel uses, fixed once per JVM. They must be {@code static final} constants:
 * C2 only intrinsifies Vector API calls whose species it can see as a constant.
 *
 * <p>The default is {@link FloatVector#SPECIES_PREFERRED} (512-bit on AVX-512). {@code -Drg.vector.bits=256}
 * (or 128) picks a narrower shape, for measuring whether 512-bit pays on a given CPU.
 */
final class Simd {
    private Simd() {}

    /** Floats of the preferred (or requested) width. */
    static final VectorSpecies<Float> F = floats();
    /** Ints of the same shape: a bf16 pair per lane, or widened shorts. */
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Shorts of half the shape: {@code F.length()} 16-bit values that widen to one float vector. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** Float lanes per vector. */
    static final int L = F.length();
    /**
     * Bytes of a quarter of the shape: {@code L} int8 weights (or {@code 2 L} packed 4-bit codes) that widen to one
     * float (or int) vector. A 128-bit float shape has no 32-bit byte species; then this is the 64-bit one and
     * {@link #BYTE_LANES} is false (the quantised kernels take their portable path).
     */
    static final VectorSpecies<Byte> B = F.vectorBitSize() >= 256
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4)) : ByteVector.SPECIES_64;
    /** Whether {@link #B} has exactly {@link #L} lanes, as the vectorised int8/4-bit kernels need. */
    static final boolean BYTE_LANES = B.length() == L;
    /** Weights and activations in segments are little-endian. */
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private static VectorSpecies<Float> floats() {
        String bits = System.getProperty("rg.vector.bits");
        if (bits != null) {
            try {
                int b = Integer.parseInt(bits.trim());
                if (b >= 128 && b <= FloatVector.SPECIES_MAX.vectorBitSize() && Integer.bitCount(b) == 1) {
                    return VectorSpecies.of(float.class, VectorShape.forBitSize(b));
                }
            } catch (NumberFormatException e) {
                // fall through to the preferred species
            }
        }
        return FloatVector.SPECIES_PREFERRED;
    }

    /** "512-bit, 16 float lanes". */
    static String describe() {
        return F.vectorBitSize() + "-bit, " + L + " float lanes";
    }
}
