package dev.rg.bench.run;

import java.util.Locale;

/**
 * How much to measure. {@link #QUICK} is the CI smoke run: tiny shapes, one JVM, a fraction of a second per
 * benchmark, every backend and format exercised; its numbers are noise and it fails only on errors.
 * {@link #FULL} is for publishing: the 2B model's shapes, a fresh JVM per benchmark (fork), warm-up and
 * enough iterations for a confidence interval; the reference backend is capped (see {@link #referenceCapFlops}).
 *
 * @param name              {@code quick} or {@code full}
 * @param preset            model architecture whose shapes are benchmarked
 * @param prefillTokens     rows of the prefill matmul, the RG-LRU scan and the prompt-chunk layer benchmarks
 * @param forks             JMH forks (0 = in the runner's JVM)
 * @param warmupIterations  JMH warm-up iterations
 * @param warmupMillis      length of one warm-up iteration
 * @param iterations        JMH measurement iterations
 * @param iterationMillis   length of one measurement iteration
 * @param probeBytes        buffer of the memory-read probe
 * @param probeRepetitions  repetitions of each probe
 * @param referenceCapFlops the reference backend (scalar, one thread) runs only operations of at most this many
 *                          FLOPs per invocation, so a run stays minutes, not hours (infinite = no cap)
 */
public record Profile(String name, String preset, int prefillTokens, int forks, int warmupIterations, int warmupMillis,
        int iterations, int iterationMillis, long probeBytes, int probeRepetitions, double referenceCapFlops) {

    /** Tiny shapes, no fork, 1 x 150 ms warm-up + 2 x 150 ms: seconds per backend and format. */
    public static final Profile QUICK = new Profile("quick", "tiny", 16, 0, 1, 150, 2, 150, 256L << 20, 3,
            Double.POSITIVE_INFINITY);

    /**
     * The 2B shapes, 1 fork, 3 x 1 s warm-up + 5 x 1 s. Reference cap 0.25 GFLOP per invocation: the scalar
     * reference does ~1 GFLOP/s, so it keeps every single-token matmul but the LM head, the prompt chunks of the
     * small shapes, every kernel and the single-token blocks, and drops the 2B decode step (5.4 GFLOP, seconds
     * per token).
     */
    public static final Profile FULL = new Profile("full", "2b", 128, 1, 3, 1000, 5, 1000, 1L << 30, 5, 0.25e9);

    /** The profile with this name. */
    public static Profile named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "quick" -> QUICK;
            case "full" -> FULL;
            default -> throw new IllegalArgumentException("unknown profile '" + name + "' (quick or full)");
        };
    }
}
