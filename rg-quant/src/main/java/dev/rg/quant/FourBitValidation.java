package dev.rg.quant;

import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import java.lang.foreign.MemorySegment;

/** {@link FourBitFormat#validate}: sizes of every part, and finite scales (a NaN scale poisons a whole block). */
final class FourBitValidation {
    private FourBitValidation() {}

    static void validate(FourBitFormat f, HostWeight w) {
        if (!f.equals(w.format())) {
            throw fail(f, w, "is in format " + w.format().name());
        }
        long n = w.shape().elementCount();
        long nb = FourBitFormat.blockCount(n);
        expectBytes(f, w, WeightFormat.DATA, FourBitFormat.packedBytes(n),
                "ceil(" + n + "/2) bytes of packed 4-bit codes");
        if (!f.isDoubleQuantized()) {
            expectBytes(f, w, FourBitFormat.ABSMAX, nb * 4, nb + " float32 (one per 64-element block)");
            requireFinite(f, w, FourBitFormat.ABSMAX, nb);
            return;
        }
        long nnb = FourBitFormat.nestedBlockCount(nb);
        expectBytes(f, w, FourBitFormat.ABSMAX, nb, nb + " u8 codes (one per 64-element block)");
        expectBytes(f, w, FourBitFormat.NESTED_ABSMAX, nnb * 4, nnb + " float32 (one per 256 blocks)");
        expectBytes(f, w, FourBitFormat.NESTED_QUANT_MAP, 256 * 4, "256 float32");
        requireFinite(f, w, FourBitFormat.NESTED_ABSMAX, nnb);
        requireFinite(f, w, FourBitFormat.NESTED_QUANT_MAP, 256);
        Double offset = w.params().get(FourBitFormat.OFFSET);
        if (offset == null) {
            throw fail(f, w, "has no parameter '" + FourBitFormat.OFFSET + "'");
        }
        if (!Double.isFinite(offset) || (double) (float) (double) offset != offset) {
            throw fail(f, w, "has offset " + offset + ", expected a finite float32 value");
        }
    }

    private static void expectBytes(FourBitFormat f, HostWeight w, String part, long expected, String what) {
        MemorySegment s = w.parts().get(part);
        if (s == null) {
            throw fail(f, w, "has no part '" + part + "' (expected " + what + "); parts: " + w.parts().keySet());
        }
        if (s.byteSize() != expected) {
            throw fail(f, w, "part '" + part + "' has " + s.byteSize() + " bytes, expected " + expected + " ("
                    + what + ")");
        }
    }

    private static void requireFinite(FourBitFormat f, HostWeight w, String part, long count) {
        MemorySegment s = w.part(part);
        for (long i = 0; i < count; i++) {
            float v = s.get(Le.F32, i * 4);
            if (!Float.isFinite(v)) {
                throw fail(f, w, "part '" + part + "' entry " + i + " is " + v + ", expected a finite float32");
            }
        }
    }

    private static InvalidWeightException fail(FourBitFormat f, HostWeight w, String problem) {
        return new InvalidWeightException("weight '" + w.name() + "' (" + f.name() + ", shape " + w.shape() + ") "
                + problem);
    }
}
