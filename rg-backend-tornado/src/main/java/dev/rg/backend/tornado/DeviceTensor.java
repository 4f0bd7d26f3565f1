package dev.rg.backend.tornado;

import dev.rg.api.tensor.Tensor;

/** A float32 tensor in the device arena of a tornado backend: an offset and a shape. */
final class DeviceTensor implements Tensor {
    private final TornadoBackend owner;
    private final int rows;
    private final int cols;
    private final int offset;
    private boolean closed;

    DeviceTensor(TornadoBackend owner, int offset, int rows, int cols) {
        this.owner = owner;
        this.offset = offset;
        this.rows = rows;
        this.cols = cols;
    }

    TornadoBackend owner() {
        return owner;
    }

    /** Offset in the arena, in floats. */
    int offset() {
        if (closed) {
            throw new IllegalStateException("tensor used after close()");
        }
        return offset;
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
        if (!closed) {
            closed = true;
            owner.release(offset, (long) rows * cols);
        }
    }

    @Override
    public String toString() {
        return "DeviceTensor[" + rows + "x" + cols + " @" + offset + "]";
    }
}
