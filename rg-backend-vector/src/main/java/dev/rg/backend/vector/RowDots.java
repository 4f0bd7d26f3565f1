package dev.rg.backend.vector;

import dev.rg.quant.FourBitCodeBook;
import java.util.Map;
import java.util.Set;

/**
 * The weight formats the vector backend runs natively, each with its {@link RowDot}. Adding a format means one
 * more {@link RowDot} class and one more entry here; nothing else changes.
 *
 * <p>The 4-bit formats have two kernels each: the vectorised one for weights whose rows are whole 64-blocks, the
 * general one for any other shape ({@link Nf4RowDot}); {@link #forWeight} picks. {@code nf4-dq} and {@code fp4-dq}
 * weights are converted to {@code nf4}/{@code fp4} at load ({@link VectorBackend#loadWeight}), so they run the same
 * kernels.
 */
final class RowDots {
    private RowDots() {}

    private static final Nf4RowDot NF4 = Nf4RowDot.vectorised(FourBitCodeBook.NF4);
    private static final Nf4RowDot FP4 = Nf4RowDot.vectorised(FourBitCodeBook.FP4);
    private static final Nf4RowDot NF4_GENERAL = Nf4RowDot.general(FourBitCodeBook.NF4);
    private static final Nf4RowDot FP4_GENERAL = Nf4RowDot.general(FourBitCodeBook.FP4);

    private static final Map<String, RowDot> KERNELS = Map.of(
            "f32", new F32RowDot(),
            "bf16", new Bf16RowDot(),
            "f16", new F16RowDot(),
            "int8", new Int8RowDot(),
            "nf4", NF4,
            "nf4-dq", NF4,
            "fp4", FP4,
            "fp4-dq", FP4);

    /** The kernel of a format for weights of any shape, or null if the backend cannot run it. */
    static RowDot forFormat(String format) {
        return KERNELS.get(format);
    }

    /** The kernel of a format for a weight of {@code cols} columns, or null if the backend cannot run it. */
    static RowDot forWeight(String format, int cols) {
        RowDot d = KERNELS.get(format);
        if (d instanceof Nf4RowDot && !Nf4RowDot.vectorisable(cols)) {
            return d == NF4 ? NF4_GENERAL : FP4_GENERAL;
        }
        return d;
    }

    /** Names of the formats with a kernel. */
    static Set<String> formats() {
        return KERNELS.keySet();
    }
}
