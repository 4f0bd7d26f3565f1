package dev.rg.backend.cuda.device;

/**
 * A pointer argument of a launch: a buffer and the number of bytes the kernel will touch from its start. The
 * launcher refuses the launch unless the buffer is alive, belongs to it and holds at least that many bytes.
 */
public record Span(DeviceBuffer buffer, long bytes) {
    public Span {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative extent " + bytes);
        }
    }
}
