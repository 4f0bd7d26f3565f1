package dev.rg.api.backend;

import java.util.EnumSet;
import java.util.Set;

/**
 * What a backend runs natively. For every op outside {@link #ops()}, and for {@link Op#MATMUL} /
 * {@link Op#EMBED} with a weight format outside {@link #weightFormats()}, the runtime falls back per op to
 * the reference implementation (correct, but with host transfers and slow). Weights of the small ops (norms,
 * biases, conv, gates) are always in a dense format ({@code f32}, {@code bf16} or {@code f16}), which every
 * backend must accept for the ops it lists.
 *
 * @param ops           the ops with a native kernel
 * @param weightFormats names of the weight formats MATMUL and EMBED accept natively
 */
public record Capabilities(Set<Op> ops, Set<String> weightFormats) {
    public Capabilities {
        ops = ops.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(ops));
        weightFormats = Set.copyOf(weightFormats);
    }

    /** Every op natively, with the given weight formats. */
    public static Capabilities allOps(Set<String> weightFormats) {
        return new Capabilities(EnumSet.allOf(Op.class), weightFormats);
    }

    /**
     * The ops {@code kernels} implements (overrides rather than inherits {@link Kernels}' default body), with the
     * given weight formats: what a provider declares so that {@code rg backends} lists exactly the ops its kernels
     * run. (The runtime checks the kernels itself too: an op declared here but not implemented still falls back.)
     */
    public static Capabilities implementedBy(Class<? extends Kernels> kernels, Set<String> weightFormats) {
        Set<Op> ops = EnumSet.noneOf(Op.class);
        for (Op op : Op.values()) {
            if (op.implementedBy(kernels)) {
                ops.add(op);
            }
        }
        return new Capabilities(ops, weightFormats);
    }

    /** Whether {@code op} runs natively for a weight in {@code format} (ignored for ops without such a weight). */
    public boolean supports(Op op, String format) {
        return ops.contains(op) && (!op.takesQuantizableWeight() || weightFormats.contains(format));
    }
}
