package dev.rg.backend.cuda.device;

/**
 * A region of device memory: a CUDA device pointer or an OpenCL {@code cl_mem}, with its size in bytes. Every
 * access through a {@link KernelLauncher} is checked against {@link #bytes()}; using a freed buffer is an error.
 */
public final class DeviceBuffer {
    private final KernelLauncher owner;
    private final long handle;
    private final long bytes;
    private volatile boolean freed;

    DeviceBuffer(KernelLauncher owner, long handle, long bytes) {
        this.owner = owner;
        this.handle = handle;
        this.bytes = bytes;
    }

    /** The raw handle (device address or cl_mem), valid while the buffer is alive. */
    public long handle() {
        if (freed) {
            throw new IllegalStateException("device buffer of " + bytes + " bytes used after it was freed");
        }
        return handle;
    }

    /** Size in bytes. */
    public long bytes() {
        return bytes;
    }

    public boolean isFreed() {
        return freed;
    }

    KernelLauncher owner() {
        return owner;
    }

    void markFreed() {
        freed = true;
    }

    /** Fails unless {@code [offset, offset+length)} lies inside the buffer. */
    public void checkRange(long offset, long length, String what) {
        if (offset < 0 || length < 0 || offset > bytes || length > bytes - offset) {
            throw new IndexOutOfBoundsException(what + ": bytes [" + offset + ", " + (offset + length)
                    + ") outside a device buffer of " + bytes + " bytes");
        }
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + bytes + " bytes" + (freed ? ", freed" : "") + "]";
    }
}
