package dev.rg.core.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Measures how fast this machine reads memory from Java: threads each sum a disjoint part of a buffer much
 * larger than the caches (a heap {@code long[]}, whose summation loop C2 compiles to SIMD adds, so the loads
 * and not the arithmetic are the limit). Benchmarks report decode speed as a fraction of this figure, measured
 * in the same run, because the machines are shared and their bandwidth moves from minute to minute.
 */
public final class MemoryReadProbe {
    /**
     * @param bestGbPerS   the fastest repetition
     * @param medianGbPerS the median repetition
     * @param bytes        bytes read per repetition
     * @param threads      reader threads
     */
    public record Result(double bestGbPerS, double medianGbPerS, long bytes, int threads) {}

    private MemoryReadProbe() {}

    /** Reads {@code bytes} (rounded to 64) with {@code threads} threads, {@code repetitions} times after one warm-up. */
    public static Result measure(long bytes, int threads, int repetitions) {
        long size = Math.max(64, bytes / 64 * 64);
        {
            long[] buf = new long[Math.toIntExact(size / 8)];
            java.util.Arrays.fill(buf, 1L);
            double[] gbs = new double[repetitions];
            long sink = 0;
            for (int r = -1; r < repetitions; r++) {
                long[] sums = new long[threads];
                long t0 = System.nanoTime();
                runParallel(buf, threads, sums);
                long dt = System.nanoTime() - t0;
                for (long s : sums) {
                    sink += s;
                }
                if (r >= 0) {
                    gbs[r] = size / (double) dt;
                }
            }
            if (sink == 42) {
                System.out.print(""); // keeps the sums alive
            }
            double[] sorted = gbs.clone();
            Arrays.sort(sorted);
            return new Result(sorted[sorted.length - 1], sorted[sorted.length / 2], size, threads);
        }
    }

    private static void runParallel(long[] buf, int threads, long[] sums) {
        int chunk = buf.length / threads;
        CountDownLatch done = new CountDownLatch(threads);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            int from = chunk * t;
            int to = t == threads - 1 ? buf.length : from + chunk;
            Thread th = Thread.ofPlatform().daemon().name("rg-memprobe-" + t).start(() -> {
                sums[id] = sum(buf, from, to);
                done.countDown();
            });
            ts.add(th);
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static long sum(long[] a, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i++) {
            s += a[i];
        }
        return s;
    }
}
