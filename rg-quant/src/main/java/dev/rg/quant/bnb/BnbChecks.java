package dev.rg.quant.bnb;

import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Error messages and tensor checks of the bitsandbytes adapter; every message names the weight and tensor. */
final class BnbChecks {
    /** Checkpoint tensors are unaligned slices of a mapped file. */
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BnbChecks() {}

    static String prefix(String weight) {
        return "bitsandbytes weight '" + weight + "': ";
    }

    static InvalidWeightException fail(String weight, String problem) {
        return new InvalidWeightException(prefix(weight) + problem);
    }

    /** " (in FILE)" for messages, or nothing when the file is unknown. */
    static String in(RawTensor t) {
        return t.file() == null ? "" : " (in " + t.file() + ")";
    }

    static String describe(RawTensor t) {
        return "'" + t.name() + "' is " + t.dtype() + " " + t.shape() + in(t);
    }

    /** Checks dtype and a rank-1 length, then that the bytes match. */
    static void expectVector(String weight, RawTensor t, DType dtype, long length, String meaning) {
        if (t.dtype() != dtype || !t.shape().equals(Shape.of(length))) {
            throw fail(weight, "tensor " + describe(t) + ", expected " + dtype + " [" + length + "] (" + meaning + ")");
        }
        expectBytes(weight, t);
    }

    /** The slice must hold exactly shape x dtype bytes; a loader guarantees it, a hand-made RawTensor may not. */
    static void expectBytes(String weight, RawTensor t) {
        long expected = t.shape().elementCount() * t.dtype().byteSize();
        if (t.data().byteSize() != expected) {
            throw fail(weight, "tensor " + describe(t) + " but holds " + t.data().byteSize() + " bytes, expected "
                    + expected);
        }
    }
}
