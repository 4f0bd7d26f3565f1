package dev.rg.api.tensor;

import java.util.Arrays;

/**
 * An immutable tensor shape. Dimensions are non-negative; the element count must fit in a {@code long}.
 * A rank-0 shape (a scalar) has one element.
 */
public final class Shape {
    private final long[] dims;
    private final long elementCount;

    private Shape(long[] dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
            n = Math.multiplyExact(n, d);
        }
        this.dims = dims;
        this.elementCount = n;
    }

    /** A shape with the given dimensions, outermost first. */
    public static Shape of(long... dims) {
        return new Shape(dims.clone());
    }

    /** A two-dimensional shape {@code [rows, cols]}. */
    public static Shape matrix(long rows, long cols) {
        return new Shape(new long[] {rows, cols});
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return dims[i];
    }

    public long[] dims() {
        return dims.clone();
    }

    /** Total number of elements. */
    public long elementCount() {
        return elementCount;
    }

    /** The last dimension (1 for a scalar): the length of one row when the tensor is viewed as a matrix. */
    public long lastDim() {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    /** All leading dimensions multiplied: the number of rows when the tensor is viewed as a matrix. */
    public long rows() {
        long last = lastDim();
        return last == 0 ? 0 : elementCount / last;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
