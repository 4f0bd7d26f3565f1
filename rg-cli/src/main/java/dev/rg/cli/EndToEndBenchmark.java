package dev.rg.cli;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.generate.DeviceTopK;
import dev.rg.core.generate.Sampler;
import dev.rg.core.generate.SamplingParams;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
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

    /**
     * Prefill tokens/s and decode tokens/s (all sequences together); with prompt tokens prefilled beside each decode
     * step, {@code decode} is with both in one pass and {@code decodeApart} with two passes (null without).
     */
    record Result(Stats prefill, Stats decode, Stats decodeApart) {}

    private final Model model;
    private final int topK;
    private final double warmupSeconds;
    private final double warmupMaxSeconds;
    private final SplittableRandom random = new SplittableRandom(1234);

    /**
     * {@code topK} 0: decode picks tokens by argmax; else it samples each from the top {@code topK} (temperature 1).
     * Every measured kind of work is first run unmeasured for at least {@code warmupSeconds} (and at least once), then
     * until the JIT has gone quiet, at most {@code warmupMaxSeconds} in all ({@link JitWarmUp}; 0 and 0: one run). Eight
     * warm-up steps, as before, compiled a 2B model's kernels but not a small model's: the embedded model's batch-1
     * decode measured min 120, median 1,190, max 2,050 tokens/s over five repetitions, and 4,000-4,430 once warm.
     */
    EndToEndBenchmark(Model model, int topK, double warmupSeconds, double warmupMaxSeconds) {
        this.model = model;
        this.topK = topK;
        this.warmupSeconds = warmupSeconds;
        this.warmupMaxSeconds = warmupMaxSeconds;
    }

    /** Runs {@code work} unmeasured until the JIT is quiet (or the cap); says so on stderr when it was not. */
    private void warmUp(String what, Runnable work) {
        JitWarmUp.Outcome o = JitWarmUp.run(work, warmupSeconds, warmupMaxSeconds,
                warmupMaxSeconds > 0 ? JitWarmUp.QUIET_NANOS : 0, JitWarmUp.hotspotCompileMillis());
        if (!o.quiet() && warmupMaxSeconds > 0) {
            System.err.printf(java.util.Locale.ROOT, "rg: warning: the JIT was still compiling after %.0f s of %s warm-up"
                    + " (%d runs); its first repetitions may run slow%n", o.seconds(), what, o.runs());
        }
    }

    private int[] tokens(int n) {
        return randomPrompt(model, n, random);
    }

    /** BOS and {@code n - 1} random ids past the special ones: a prompt whose cost does not depend on its ids. */
    static int[] randomPrompt(Model model, int n, SplittableRandom random) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 3 + random.nextInt(model.config().vocabSize() - 3);
        }
        ids[0] = model.config().bosId();
        return ids;
    }

    /**
     * {@code beside} &gt; 0: every decode step also prefills that many prompt tokens of one more sequence, as a server's
     * iteration does when a prompt arrives while others decode; measured both in one pass
     * ({@link dev.rg.core.model.Griffin#forwardTogether}) and in two, alternately in every repetition, so that the two
     * see the same machine. Decode tokens/s then counts the decoded tokens only.
     */
    Result run(int prompt, int generate, int batch, int beside, int repetitions, Runnable afterEach) {
        // warm-up: JIT compilation of every kernel at the measured sizes
        if (prompt > 0) {
            warmUp("prefill", () -> measurePrefill(Math.min(prompt, 16)));
        }
        int warm = Math.max(2, Math.min(generate, 8));
        if (generate > 0) {
            String what = "decode" + (batch > 1 ? " batch " + batch : "");
            warmUp(what, () -> measureDecode(warm, batch, beside, true));
            if (beside > 0) {
                warmUp(what + " apart from its prefill chunk", () -> measureDecode(warm, batch, beside, false));
            }
        }
        double[] pre = new double[repetitions];
        double[] dec = new double[repetitions];
        double[] apart = new double[repetitions];
        for (int r = 0; r < repetitions; r++) {
            pre[r] = prompt > 0 ? measurePrefill(prompt) : 0;
            if (generate > 0 && beside == 0) {
                dec[r] = measureDecode(generate, batch, 0, true);
            } else if (generate > 0) {
                // ABBA over the repetitions: neither variant always runs first
                boolean sharedFirst = r % 2 == 0;
                double a = measureDecode(generate, batch, beside, sharedFirst);
                double b = measureDecode(generate, batch, beside, !sharedFirst);
                dec[r] = sharedFirst ? a : b;
                apart[r] = sharedFirst ? b : a;
            }
            afterEach.run();
        }
        return new Result(Stats.of(pre), Stats.of(dec), beside > 0 && generate > 0 ? Stats.of(apart) : null);
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

    /** One seeded sampler per row (the same seeds in every measurement), or null for greedy decoding. */
    private Sampler[] samplers(int batch) {
        if (topK == 0) {
            return null;
        }
        int vocab = model.config().vocabSize();
        Sampler[] out = new Sampler[batch];
        for (int b = 0; b < batch; b++) {
            out[b] = new Sampler(new SamplingParams(1f, topK, 1f, 0f, 1f, 1000 + b), new BitSet(vocab), vocab);
        }
        return out;
    }

    /**
     * Decoded tokens/s of {@code n} steps of {@code batch} sequences; with {@code beside} &gt; 0 each step beside a
     * prefill chunk of that many tokens of another sequence, in the same pass when {@code shared}, else in a pass of
     * its own before the step.
     */
    private double measureDecode(int n, int batch, int beside, boolean shared) {
        try (ModelState s = model.newState(batch); ModelState p = beside > 0 ? model.newState(1) : null) {
            Griffin g = model.griffin();
            int[] step = tokens(batch);
            g.forward(s, step, 1, Outputs.LAST);
            int[] chunk = beside > 0 ? tokens(beside) : null; // a step's cost does not depend on the ids
            int[] next = new int[batch + 1];
            Sampler[] samplers = samplers(batch);
            DeviceTopK top = new DeviceTopK();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                Tensor logits;
                if (beside > 0 && shared) {
                    logits = g.forwardTogether(List.of(new Griffin.Part(s, step, 1), new Griffin.Part(p, chunk, beside)));
                } else {
                    if (beside > 0) {
                        g.forward(p, chunk, beside, Outputs.LAST);
                    }
                    logits = g.forward(s, step, 1, Outputs.LAST);
                }
                // bringing the ids back (argmax's, or top k's ids and values) also waits for an asynchronous (GPU) backend
                if (samplers == null) {
                    g.kernels().argmax(logits, next);
                } else {
                    top.sample(g.kernels(), logits, samplers, next);
                }
                System.arraycopy(next, 0, step, 0, batch);
            }
            return (double) n * batch * 1e9 / (System.nanoTime() - t0);
        }
    }
}
