package dev.rg.api.tensor;

import dev.rg.api.format.WeightFormat;

/**
 * A read-only parameter tensor loaded onto a backend, in some {@link WeightFormat}. A weight of shape
 * {@code [d0, ..., dn]} is used as a matrix with {@code d0*...*d(n-1)} rows of {@code dn} columns; linear
 * layers are {@code [out, in]} as in PyTorch.
 */
public interface Weight extends AutoCloseable {
    /** The checkpoint name, e.g. {@code model.layers.0.mlp_block.up_proj.weight}. */
    String name();

    Shape shape();

    WeightFormat format();

    /** Bytes the weight occupies in its format (what one pass over it reads). */
    long byteSize();

    /** Rows when viewed as a matrix. */
    default int rows() {
        return Math.toIntExact(shape().rows());
    }

    /** Columns when viewed as a matrix. */
    default int cols() {
        return Math.toIntExact(shape().lastDim());
    }

    @Override
    default void close() {}
}
