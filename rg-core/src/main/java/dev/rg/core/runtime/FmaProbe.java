package dev.rg.core.runtime;

import java.util.Arrays;

/**
 * Measures the float32 FMA rate this JVM reaches without the Vector API: each thread updates a small array
 * (in L1) with chains of {@link Math#fma}, a loop C2 auto-vectorises. Eight dependent FMAs per element keep
 * loads and stores off the critical path and several elements in flight hide the FMA latency. It is a
 * measured ceiling for what plain Java kernels get, at or somewhat under the hardware peak (which needs
 * register-only code); the report quotes GFLOP/s as a fraction of it, measured in the same run.
 */
public final class FmaProbe {
    /**
     * @param bestGflops   the fastest repetition, all threads together
     * @param medianGflops the median repetition
     * @param threads      threads
     */
    public record Result(double bestGflops, double medianGflops, int threads) {}

    private static final int ELEMENTS = 1024; // 4 KB per thread: L1-resident
    private static final int CHAIN = 8;

    private FmaProbe() {}

    /** Runs {@code repetitions} timed rounds of about {@code millis} each (after a warm-up) on {@code threads} threads. */
    public static Result measure(int threads, int repetitions, int millis) {
        long sweeps = calibrate(millis);
        double[] gflops = new double[repetitions];
        for (int r = -1; r < repetitions; r++) {
            long t0 = System.nanoTime();
            runParallel(threads, sweeps);
            long dt = System.nanoTime() - t0;
            if (r >= 0) {
                gflops[r] = (double) threads * sweeps * ELEMENTS * CHAIN * 2 / dt;
            }
        }
        double[] sorted = gflops.clone();
        Arrays.sort(sorted);
        return new Result(sorted[sorted.length - 1], sorted[sorted.length / 2], threads);
    }

    /** Sweeps that take about {@code millis} on one thread (the JIT compiles the loop while this warms up). */
    private static long calibrate(int millis) {
        float[] a = fresh();
        long sweeps = 1000;
        while (true) {
            long t0 = System.nanoTime();
            sweep(a, sweeps);
            long dt = System.nanoTime() - t0;
            if (dt > millis * 1_000_000L / 4) {
                return Math.max(1, sweeps * millis * 1_000_000L / dt);
            }
            sweeps *= 2;
        }
    }

    private static float[] fresh() {
        float[] a = new float[ELEMENTS];
        Arrays.fill(a, 1.0f);
        return a;
    }

    private static void runParallel(int threads, long sweeps) {
        float[] sink = new float[threads];
        ProbeThreads.runOnEach(threads, "rg-fma-probe", id -> {
            float[] a = fresh();
            sweep(a, sweeps);
            sink[id] = a[id % ELEMENTS];
        });
        if (Float.isNaN(sink[0])) {
            throw new IllegalStateException("FMA probe diverged"); // also keeps the results alive
        }
    }

    /** x = x * m + c, eight times per element per sweep; the fixed point (c / (1 - m) = 1) keeps values finite. */
    private static void sweep(float[] a, long sweeps) {
        final float m = 0.999f;
        final float c = 0.001f;
        for (long s = 0; s < sweeps; s++) {
            for (int i = 0; i < a.length; i++) {
                float x = a[i];
                x = Math.fma(x, m, c);
                x = Math.fma(x, m, c);
                x = Math.fma(x, m, c);
                x = Math.fma(x, m, c);
                x = Math.fma(x, m, c);
                x = Math.fma(x, m, c);
                x = Math.fma(x, m, c);
                x = Math.fma(x, m, c);
                a[i] = x;
            }
        }
    }
}
