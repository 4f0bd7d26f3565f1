package dev.rg.api.backend;

import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.util.EnumSet;
import java.util.Set;

/**
 * The kernel operations of {@link Kernels}, for {@link Capabilities} and the per-op fallback. Each names the
 * {@link Kernels} method it stands for, so the runtime can tell whether a backend's kernels implement it or only
 * inherit the default body that says it is unsupported. (Fused ops, {@link Kernels#matmulGroup},
 * {@link Kernels#geluMulMatmul}, {@link Kernels#addRmsNorm}, {@link Kernels#ropeQk}, {@link Kernels#matmulAdd},
 * {@link Kernels#geluMulMatmulAdd} and {@link Kernels#rmsNormMatmulGroup}, are not listed: their defaults compose the
 * plain ops.)
 */
public enum Op {
    EMBED("embed", int[].class, Weight.class, float.class, Tensor.class),
    MATMUL("matmul", Tensor.class, Weight.class, Weight.class, Tensor.class),
    RMS_NORM("rmsNorm", Tensor.class, Weight.class, float.class, Tensor.class),
    GELU("gelu", Tensor.class, Tensor.class),
    GELU_MUL("geluMul", Tensor.class, Tensor.class, Tensor.class),
    MUL("mul", Tensor.class, Tensor.class, Tensor.class),
    ADD("add", Tensor.class, Tensor.class, Tensor.class),
    CONV1D("conv1d", Tensor.class, SeqBatch.class, Weight.class, Weight.class, Tensor.class, Tensor.class),
    RG_LRU("rgLru", Tensor.class, SeqBatch.class, RgLruWeights.class, Tensor.class, Tensor.class),
    ROPE("rope", Tensor.class, SeqBatch.class, int.class, int.class, int.class, float.class),
    LOCAL_ATTENTION("localAttention", Tensor.class, Tensor.class, Tensor.class, SeqBatch.class, AttentionSpec.class,
            Tensor.class, Tensor.class, Tensor.class),
    SOFT_CAP("softCap", Tensor.class, float.class),
    COPY_ROWS("copyRows", Tensor.class, int.class, Tensor.class, int.class, int.class),
    ARGMAX("argmax", Tensor.class, int[].class),
    TOP_K("topK", Tensor.class, int.class, int[].class, float[].class),
    FILL("fill", Tensor.class, float.class);

    private final String method;
    private final Class<?>[] parameters;

    Op(String method, Class<?>... parameters) {
        this.method = method;
        this.parameters = parameters;
    }

    /** The name of the {@link Kernels} method this op stands for. */
    public String method() {
        return method;
    }

    /** Whether the op reads a {@link dev.rg.api.tensor.Weight} whose format matters. */
    public boolean takesQuantizableWeight() {
        return this == MATMUL || this == EMBED;
    }

    /** Whether {@code kernels} implements this op, i.e. does not inherit the default body that throws. */
    public boolean implementedBy(Class<? extends Kernels> kernels) {
        try {
            return kernels.getMethod(method, parameters).getDeclaringClass() != Kernels.class;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("Kernels has no method " + method + " for op " + this, e);
        }
    }

    /** The ops {@code kernels} implements (the others inherit {@link Kernels}' default body that throws). */
    public static Set<Op> implementedBy(Kernels kernels) {
        Set<Op> out = EnumSet.noneOf(Op.class);
        for (Op op : values()) {
            if (op.implementedBy(kernels.getClass())) {
                out.add(op);
            }
        }
        return out;
    }
}
