package dev.rg.api.backend;

/** The kernel operations of {@link Kernels}, for {@link Capabilities}. */
public enum Op {
    EMBED, MATMUL, RMS_NORM, GELU, GELU_MUL, MUL, ADD, CONV1D, RG_LRU, ROPE, LOCAL_ATTENTION, SOFT_CAP,
    COPY_ROWS, ARGMAX, TOP_K, FILL;

    /** Whether the op reads a {@link dev.rg.api.tensor.Weight} whose format matters. */
    public boolean takesQuantizableWeight() {
        return this == MATMUL || this == EMBED;
    }
}
