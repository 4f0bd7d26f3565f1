package dev.rg.backend.cuda.device;

import dev.rg.api.tensor.Tensor;

/** A float32 {@code rows x cols} tensor in device memory, owned by one {@link DeviceBackend}. */
public final class DeviceTensor implements Tensor {
    private final DeviceBackend owner;
    private final int rows;
    private final int cols;
    private final DeviceBuffer buffer;

    DeviceTensor(DeviceBackend owner, int rows, int cols, DeviceBuffer buffer) {
        this.owner = owner;
        this.rows = rows;
        this.cols = cols;
        this.buffer = buffer;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** Bytes of the tensor's elements ({@code rows*cols*4}). */
    public long bytes() {
        return size() * 4;
    }

    DeviceBackend owner() {
        return owner;
    }

    /** The device buffer (fails if the tensor was closed). */
    DeviceBuffer buffer() {
        if (buffer.isFreed()) {
            throw new IllegalStateException("device tensor " + rows + "x" + cols + " used after close()");
        }
        return buffer;
    }

    /** The whole tensor as a launch argument. */
    Span span() {
        return new Span(buffer(), bytes());
    }

    @Override
    public void close() {
        owner.launcher().free(buffer);
    }

    @Override
    public String toString() {
        return "DeviceTensor[" + rows + "x" + cols + "]";
    }
}
