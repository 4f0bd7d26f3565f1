package dev.rg.cli;

import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * llama-bench-style measurements on a loaded model: prefill of {@code p} tokens (one sequence) and decode of
 * {@code n} steps for a batch of {@code b} sequences, repeated, after a warm-up. Token ids are random; the
 * cost of a step does not depend on them.
 */
final class EndToEndBenchmark {
    /** Sorted samples of one quantity. */
    record Stats(double min, double median, double max, double[] samples) {
        static Stats of(double[] xs) {
            double[] s = xs.clone();
            Arrays.sort(s);
            return new Stats(s[0], s[s.length / 2], s[s.length - 1], xs.clone());
        }
    }

    /** Prefill tokens/s and decode tokens/s (all sequences together). */
    record Result(Stats prefill, Stats decode) {}

    private final Model model;
    private final SplittableRandom random = new SplittableRandom(1234);

    EndToEndBenchmark(Model model) {
        this.model = model;
    }

    private int[] tokens(int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 3 + random.nextInt(model.config().vocabSize() - 3);
        }
        ids[0] = model.config().bosId();
        return ids;
    }

    Result run(int prompt, int generate, int batch, int repetitions, Runnable afterEach) {
        // warm-up: JIT compilation of every kernel at both sizes
        if (prompt > 0) {
            measurePrefill(Math.min(prompt, 16));
        }
        if (generate > 0) {
            measureDecode(Math.max(2, Math.min(generate, 8)), batch);
        }
        double[] pre = new double[repetitions];
        double[] dec = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            pre[r] = prompt > 0 ? measurePrefill(prompt) : 0;
            dec[r] = generate > 0 ? measureDecode(generate, batch) : 0;
            afterEach.run();
        }
        return new Result(Stats.of(pre), Stats.of(dec));
    }

    private double measurePrefill(int p) {
        try (ModelState s = model.newState(1)) {
            int[] ids = tokens(p);
            int[] next = new int[1];
            long t0 = System.nanoTime();
            // the argmax brings the id back, which also waits for an asynchronous (GPU) backend to finish
            model.griffin().kernels().argmax(model.griffin().forward(s, ids, p, Outputs.LAST), next);
            return p * 1e9 / (System.nanoTime() - t0);
        }
    }

    private double measureDecode(int n, int batch) {
        try (ModelState s = model.newState(batch)) {
            int[] step = tokens(batch);
            model.griffin().forward(s, step, 1, Outputs.LAST);
            int[] next = new int[batch];
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                model.griffin().kernels().argmax(model.griffin().forward(s, step, 1, Outputs.LAST), next);
                System.arraycopy(next, 0, step, 0, batch);
            }
            return (double) n * batch * 1e9 / (System.nanoTime() - t0);
        }
    }
}
