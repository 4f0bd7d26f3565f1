package dev.rg.api.backend;

import java.lang.foreign.MemorySegment;

/**
 * A way to stream through memory as fast as this JVM can, discovered with {@link java.util.ServiceLoader}.
 * Benchmarks measure every discovered reader on a buffer far larger than the caches and report decode speed
 * against the fastest: the memory-bandwidth limit a backend's decode could reach on this machine, measured
 * in the same run. A backend that reads memory in a special way (SIMD, a device) may provide one.
 */
public interface MemoryReader {
    /** Short name for reports, e.g. {@code "vector-api"}. */
    String name();

    /**
     * Reads every byte of {@code segment} in {@code [from, to)} (both multiples of 64) and returns a value that
     * depends on all of them, so that nothing can be optimised away.
     */
    long read(MemorySegment segment, long from, long to);
}
