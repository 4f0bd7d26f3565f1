package dev.rg.cli;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * Runs a piece of work unmeasured until the JIT compiler has gone quiet, so that what is measured next runs compiled
 * code. A fixed warm-up is wrong in both directions: eight decode steps compile a 2B model's kernels (each step is long
 * enough to run them thousands of times), but a small model's steps are short, and on two cores the compiler threads
 * still competed with the measured ones for a second or two after two seconds of warm-up (the embedded model's
 * batch-1 decode, five repetitions after such a warm-up: 265, 566, then 1,930-2,540 tokens/s; after eight seconds
 * 4,000-4,430). So: at least {@code minSeconds}, then until a stretch of {@code quietNanos} of work ends with no
 * compilation finished during it, at most {@code maxSeconds}.
 */
final class JitWarmUp {
    /** Work without a finished compilation that counts as quiet: longer than most single C2 compilations here. */
    static final long QUIET_NANOS = 1_000_000_000L;
    /** The longest a warm-up goes on waiting for the compiler. */
    static final double MAX_SECONDS = 60;

    private JitWarmUp() {}

    /**
     * @param seconds how long the warm-up ran
     * @param runs    how often the work ran
     * @param quiet   whether the compiler went quiet (false: stopped at the cap, or no compile-time counter)
     */
    record Outcome(double seconds, int runs, boolean quiet) {}

    /**
     * Runs {@code work} at least once and for at least {@code minSeconds}; then until {@code quietNanos} of consecutive
     * runs passed with {@code compileMillis} unchanged, or {@code maxSeconds} passed.
     */
    static Outcome run(Runnable work, double minSeconds, double maxSeconds, long quietNanos, LongSupplier compileMillis) {
        long start = System.nanoTime();
        long min = (long) (minSeconds * 1e9);
        long max = Math.max(min, (long) (maxSeconds * 1e9));
        long quietFrom = start;
        long compiled = compileMillis.getAsLong();
        int runs = 0;
        while (true) {
            work.run();
            runs++;
            long now = System.nanoTime();
            long c = compileMillis.getAsLong();
            boolean compiling = c != compiled;
            if (compiling) { // a compilation finished during this run: the quiet stretch starts after it
                compiled = c;
                quietFrom = now;
            }
            boolean quiet = !compiling && now - quietFrom >= quietNanos;
            if (now - start >= min && quiet) {
                return new Outcome((now - start) / 1e9, runs, true);
            }
            if (now - start >= max) {
                return new Outcome((now - start) / 1e9, runs, false);
            }
        }
    }

    /** The JVM's accumulated compile time in ms, or a constant where it is not monitored (then only time counts). */
    static LongSupplier hotspotCompileMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return () -> 0L;
        }
        return jit::getTotalCompilationTime;
    }
}
