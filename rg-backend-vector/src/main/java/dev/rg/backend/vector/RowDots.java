package dev.rg.backend.vector;

import java.util.Map;
import java.util.Set;

/**
 * The weight formats the vector backend runs natively, each with its {@link RowDot}. Adding a format (int8,
 * nf4, ...) means one more {@link RowDot} class and one more entry here; nothing else changes.
 */
final class RowDots {
    private RowDots() {}

    private static final Map<String, RowDot> KERNELS = Map.of(
            "f32", new F32RowDot(),
            "bf16", new Bf16RowDot(),
            "f16", new F16RowDot());

    /** The kernel of a format, or null if the backend cannot run it. */
    static RowDot forFormat(String format) {
        return KERNELS.get(format);
    }

    /** Names of the formats with a kernel. */
    static Set<String> formats() {
        return KERNELS.keySet();
    }
}
