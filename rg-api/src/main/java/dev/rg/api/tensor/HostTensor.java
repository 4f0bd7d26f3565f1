package dev.rg.api.tensor;

import java.util.Objects;

/**
 * A tensor in Java heap memory, for CPU backends and host fallbacks. Activations and state are small next to
 * the weights (a 2B decode step holds a few hundred KB of them), so a plain {@code float[]} is both the
 * simplest and the fastest storage for them on a CPU.
 */
public final class HostTensor implements Tensor {
    private final int rows;
    private final int cols;
    private float[] data;

    /** A zero-filled tensor. */
    public HostTensor(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative tensor size " + rows + "x" + cols);
        }
        this.rows = rows;
        this.cols = cols;
        this.data = new float[Math.multiplyExact(rows, cols)];
    }

    /** Wraps {@code data} (not copied), which must hold exactly {@code rows * cols} values. */
    public HostTensor(int rows, int cols, float[] data) {
        this.rows = rows;
        this.cols = cols;
        this.data = Objects.requireNonNull(data);
        if (data.length != (long) rows * cols) {
            throw new IllegalArgumentException("array of " + data.length + " floats for a " + rows + "x" + cols + " tensor");
        }
    }

    /** The backing array, row-major. */
    public float[] data() {
        float[] d = data;
        if (d == null) {
            throw new IllegalStateException("tensor used after close()");
        }
        return d;
    }

    /** Casts a backend tensor to a host tensor, with a clear error for a tensor from another backend. */
    public static HostTensor of(Tensor t) {
        if (t instanceof HostTensor h) {
            return h;
        }
        throw new IllegalArgumentException("expected a host tensor but got " + t.getClass().getName()
                + " (a tensor of another backend)");
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public void close() {
        data = null;
    }

    @Override
    public String toString() {
        return "HostTensor[" + rows + "x" + cols + "]";
    }
}
