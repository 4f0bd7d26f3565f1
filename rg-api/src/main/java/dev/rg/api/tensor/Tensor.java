package dev.rg.api.tensor;

/**
 * A float32 activation or state tensor whose storage belongs to one backend (host memory for CPU
 * backends, device memory for GPU backends). Tensors are viewed as row-major matrices
 * {@code [rows, cols]}; the model never reads their contents except through
 * {@link dev.rg.api.backend.Backend#download}. Close a tensor to release its storage.
 */
public interface Tensor extends AutoCloseable {
    /** Number of rows (for activations: batch x tokens). */
    int rows();

    /** Number of columns (elements per row). */
    int cols();

    /** {@code rows() * cols()}. */
    default long size() {
        return (long) rows() * cols();
    }

    /** Releases the storage. Using the tensor afterwards is an error. Idempotent. */
    @Override
    void close();
}
