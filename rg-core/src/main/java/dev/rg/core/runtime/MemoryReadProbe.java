package dev.rg.core.runtime;

import dev.rg.api.backend.MemoryReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Measures how fast this machine reads memory from Java: threads each read a disjoint part of an off-heap
 * buffer much larger than the caches, with every discovered {@link MemoryReader} (e.g. the vector backend's
 * SIMD reader) and a plain scalar one; the fastest reader's figure is the limit. Benchmarks report decode
 * speed as a fraction of it, measured in the same run, because the machines are shared and their bandwidth
 * moves from minute to minute.
 */
public final class MemoryReadProbe {
    /**
     * @param bestGbPerS   the fastest repetition of the fastest reader
     * @param medianGbPerS that reader's median repetition
     * @param bytes        bytes read per repetition
     * @param threads      reader threads
     * @param reader       the name of the fastest reader
     */
    public record Result(double bestGbPerS, double medianGbPerS, long bytes, int threads, String reader) {}

    /** The reader every JVM has: eight independent 8-byte loads per cache line. */
    static final MemoryReader SCALAR = new MemoryReader() {
        @Override
        public String name() {
            return "scalar";
        }

        @Override
        public long read(MemorySegment s, long from, long to) {
            long a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (long i = from; i < to; i += 64) {
                a0 += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i) + s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 32);
                a1 += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 8) + s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 40);
                a2 += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 16) + s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 48);
                a3 += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 24) + s.get(ValueLayout.JAVA_LONG_UNALIGNED, i + 56);
            }
            return a0 + a1 + a2 + a3;
        }
    };

    private MemoryReadProbe() {}

    /** Every reader: the discovered ones, then the scalar one. */
    public static List<MemoryReader> readers() {
        List<MemoryReader> out = new ArrayList<>();
        for (MemoryReader r : ServiceLoader.load(MemoryReader.class, MemoryReadProbe.class.getClassLoader())) {
            out.add(r);
        }
        out.add(SCALAR);
        return out;
    }

    /**
     * The probe's off-heap buffer, allocated and written once so that a benchmark can re-measure between its
     * repetitions without paying for it again: allocating and writing 1 GiB took about 3 s of a 2B {@code rg bench}
     * run's wall time per measurement (JFR, 2 cores), for a read of about 25 ms.
     */
    public static final class Buffer implements AutoCloseable {
        private final Arena arena;
        private final MemorySegment segment;
        private final int threads;

        private Buffer(long bytes, int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("the read probe needs at least 1 thread, got " + threads);
            }
            long size = Math.max(64L * threads, bytes / (64L * threads) * 64L * threads);
            this.arena = Arena.ofShared();
            this.segment = arena.allocate(size, 64);
            this.threads = threads;
            for (long i = 0; i < size; i += 8) {
                segment.set(ValueLayout.JAVA_LONG, i, i);
            }
        }

        /** Bytes read per repetition. */
        public long bytes() {
            return segment.byteSize();
        }

        /** Reader threads. */
        public int threads() {
            return threads;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** A buffer of about {@code bytes} (a multiple of 64 bytes per thread) for {@code threads} reader threads. */
    public static Buffer allocate(long bytes, int threads) {
        return new Buffer(bytes, threads);
    }

    /** Reads {@code bytes} with {@code threads} threads, {@code repetitions} times per reader after a warm-up. */
    public static Result measure(long bytes, int threads, int repetitions) {
        try (Buffer buffer = allocate(bytes, threads)) {
            return measure(buffer, repetitions);
        }
    }

    /** Reads {@code buffer} with its threads, {@code repetitions} times per reader after a warm-up. */
    public static Result measure(Buffer buffer, int repetitions) {
        Result best = null;
        for (MemoryReader reader : readers()) {
            Result r = measure(reader, buffer.segment, buffer.threads, repetitions);
            if (best == null || r.bestGbPerS() > best.bestGbPerS()) {
                best = r;
            }
        }
        return best;
    }

    private static Result measure(MemoryReader reader, MemorySegment buf, int threads, int repetitions) {
        double[] gbs = new double[repetitions];
        long sink = 0;
        for (int r = -2; r < repetitions; r++) {
            long[] sums = new long[threads];
            long t0 = System.nanoTime();
            runParallel(reader, buf, threads, sums);
            long dt = System.nanoTime() - t0;
            for (long s : sums) {
                sink += s;
            }
            if (r >= 0) {
                gbs[r] = buf.byteSize() / (double) dt;
            }
        }
        if (sink == 42) {
            System.out.print(""); // keeps the sums alive
        }
        double[] sorted = gbs.clone();
        Arrays.sort(sorted);
        return new Result(sorted[sorted.length - 1], sorted[sorted.length / 2], buf.byteSize(), threads, reader.name());
    }

    private static void runParallel(MemoryReader reader, MemorySegment buf, int threads, long[] sums) {
        long chunk = buf.byteSize() / threads;
        ProbeThreads.runOnEach(threads, "rg-memprobe", id -> sums[id] = reader.read(buf, chunk * id, chunk * id + chunk));
    }
}
