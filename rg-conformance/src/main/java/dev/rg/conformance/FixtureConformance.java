package dev.rg.conformance;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.config.ConfigReader;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs the whole model on a backend against a golden fixture: prefill logits (1e-4), per-layer outputs
 * (2e-4), every decode step's logits (1e-4) and the greedy ids (exact), in DeepMind window semantics. A
 * batched fixture is also decoded as a real batch, and one of its sequences decoded in the same passes as the
 * other's prompt is prefilled.
 */
public final class FixtureConformance {
    private final LoadOptions options;

    /** @param options how to load the fixture models (backend, threads, format) */
    public FixtureConformance(LoadOptions options) {
        this.options = options;
    }

    /** Every check of one fixture directory. */
    public List<CheckResult> check(Path dir) {
        int window = ConfigReader.read(dir).window();
        GoldenFixture f = GoldenFixture.read(dir, window);
        List<CheckResult> out = new ArrayList<>();
        try (Model model = Model.load(dir, options)) {
            for (int b = 0; b < f.batch(); b++) {
                out.addAll(single(model, f, b));
            }
            if (f.batch() > 1) {
                out.addAll(batched(model, f));
                out.add(sharedPass(model, f));
            }
        }
        return out;
    }

    private List<CheckResult> single(Model model, GoldenFixture f, int b) {
        List<CheckResult> out = new ArrayList<>();
        String tag = f.name() + (f.batch() > 1 ? "[" + b + "]" : "") + " (" + f.semantics() + ")";
        Backend be = model.backend();
        int vocab = model.config().vocabSize();
        int hidden = model.config().hiddenSize();
        int len = f.promptLength();
        try (ModelState state = model.newState(1)) {
            float[] layers = new float[model.config().layers() * len * hidden];
            float[] buf = new float[len * hidden];
            Tensor logits = model.griffin().forward(state, f.inputIds()[b], len, Outputs.ALL, (layer, hiddenStates) -> {
                be.download(hiddenStates, buf);
                System.arraycopy(buf, 0, layers, layer * len * hidden, len * hidden);
            });
            float[] pre = new float[len * vocab];
            be.download(logits, pre);
            out.add(Tolerance.LOGITS.compare(tag + " prefill logits", pre, f.prefillLogits()[b], pre.length));
            if (f.layerOutputs() != null) {
                out.add(Tolerance.LAYERS.compare(tag + " prefill layer outputs", layers, f.layerOutputs(), layers.length));
            }
            int predicted = argmaxRow(pre, len - 1, vocab);
            int[] gen = f.generatedIds()[b];
            int steps = f.semantics().equals("deepmind") ? gen.length : f.comparableDecodeSteps();
            float[] dec = new float[vocab];
            float worst = 0;
            CheckResult firstFail = null;
            int mismatch = -1;
            for (int s = 0; s < steps; s++) {
                if (predicted != gen[s] && mismatch < 0) {
                    mismatch = s;
                }
                Tensor l = model.griffin().forward(state, new int[] {gen[s]}, 1, Outputs.LAST);
                be.download(l, dec);
                float[] expected = Arrays.copyOfRange(f.decodeLogits()[b], s * vocab, (s + 1) * vocab);
                CheckResult r = Tolerance.LOGITS.compare(tag + " decode step " + s, dec, expected, vocab);
                worst = (float) Math.max(worst, r.maxError());
                if (!r.passed() && firstFail == null) {
                    firstFail = r;
                }
                predicted = argmaxRow(dec, 0, vocab);
            }
            out.add(firstFail != null ? firstFail : new CheckResult(tag + " decode logits, " + steps + " steps", true, worst,
                    Tolerance.LOGITS.toString(), ""));
            boolean idsOk = mismatch < 0 && (steps < gen.length || f.nextToken() < 0 || predicted == f.nextToken());
            out.add(new CheckResult(tag + " greedy ids, " + steps + " steps", idsOk, idsOk ? 0 : 1, "exact",
                    idsOk ? "" : mismatch >= 0 ? "first mismatch at step " + mismatch : "next token after the last step differs"));
        }
        return out;
    }

    /** Prefill and decode both sequences as one batch of 2: goldens where they apply, the single runs elsewhere. */
    private List<CheckResult> batched(Model model, GoldenFixture f) {
        List<CheckResult> out = new ArrayList<>();
        Backend be = model.backend();
        int vocab = model.config().vocabSize();
        int len = f.promptLength();
        int batch = f.batch();
        int[] ids = new int[batch * len];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(f.inputIds()[b], 0, ids, b * len, len);
        }
        try (ModelState state = model.newState(batch)) {
            Tensor logits = model.griffin().forward(state, ids, len, Outputs.ALL);
            float[] all = new float[batch * len * vocab];
            be.download(logits, all);
            for (int b = 0; b < batch; b++) {
                out.add(Tolerance.LOGITS.compare(f.name() + " batch of " + batch + ", sequence " + b + " prefill logits",
                        Arrays.copyOfRange(all, b * len * vocab, (b + 1) * len * vocab), f.prefillLogits()[b], len * vocab));
            }
            // Past the steps where the goldens hold, the batch must equal each sequence decoded alone.
            ModelState[] alone = new ModelState[batch];
            for (int b = 0; b < batch; b++) {
                alone[b] = model.newState(1);
                model.griffin().forward(alone[b], f.inputIds()[b], len, Outputs.NONE);
            }
            float[] dec = new float[batch * vocab];
            float[] one = new float[vocab];
            CheckResult fail = null;
            int steps = f.generatedIds()[0].length;
            for (int s = 0; s < steps; s++) {
                int[] step = new int[batch];
                for (int b = 0; b < batch; b++) {
                    step[b] = f.generatedIds()[b][s];
                }
                be.download(model.griffin().forward(state, step, 1, Outputs.LAST), dec);
                for (int b = 0; b < batch; b++) {
                    be.download(model.griffin().forward(alone[b], new int[] {step[b]}, 1, Outputs.LAST), one);
                    float[] expected = s < f.comparableDecodeSteps()
                            ? Arrays.copyOfRange(f.decodeLogits()[b], s * vocab, (s + 1) * vocab) : one;
                    Tolerance tol = s < f.comparableDecodeSteps() ? Tolerance.LOGITS : Tolerance.KERNEL;
                    CheckResult r = tol.compare(f.name() + " batch decode step " + s + " sequence " + b + " vs "
                            + (s < f.comparableDecodeSteps() ? "golden" : "single-sequence run"),
                            Arrays.copyOfRange(dec, b * vocab, (b + 1) * vocab), expected, vocab);
                    if (!r.passed() && fail == null) {
                        fail = r;
                    }
                }
            }
            for (ModelState a : alone) {
                a.close();
            }
            out.add(fail != null ? fail : new CheckResult(f.name() + " batch decode, " + steps + " steps x " + batch
                    + " (goldens for " + f.comparableDecodeSteps() + ", single runs after)", true, 0, "", ""));
        }
        return out;
    }

    /** Prompt tokens per pass in {@link #sharedPass}: odd, so a prompt ends in a partial chunk. */
    private static final int SHARED_CHUNK = 7;

    /**
     * Sequence 0 decodes its generated ids while sequence 1's prompt is prefilled in chunks, both in the same forward
     * passes ({@code Griffin.forwardTogether}: what a server runs when a prompt arrives while others decode); every
     * pass's logits of both must equal each sequence run alone on this backend (a decode step, a prefill chunk), within
     * the kernel tolerance (a matmul over more rows may sum in another order).
     */
    private CheckResult sharedPass(Model model, GoldenFixture f) {
        Backend be = model.backend();
        int vocab = model.config().vocabSize();
        int len = f.promptLength();
        int[] decoded = f.generatedIds()[0];
        int[] prompt = f.inputIds()[1];
        String tag = f.name() + " shared pass (decode of sequence 0 beside the prefill of sequence 1)";
        try (ModelState decoding = model.newState(1); ModelState prefilling = model.newState(1);
                ModelState decodingAlone = model.newState(1); ModelState prefillingAlone = model.newState(1)) {
            model.griffin().forward(decoding, f.inputIds()[0], len, Outputs.NONE);
            model.griffin().forward(decodingAlone, f.inputIds()[0], len, Outputs.NONE);
            float[] both = new float[2 * vocab];
            float[] alone = new float[vocab];
            double worst = 0;
            int passes = 0;
            for (int fed = 0; fed < len && passes < decoded.length; passes++) {
                int c = Math.min(SHARED_CHUNK, len - fed);
                int[] chunk = Arrays.copyOfRange(prompt, fed, fed + c);
                int[] step = {decoded[passes]};
                be.download(model.griffin().forwardTogether(List.of(new Griffin.Part(decoding, step, 1),
                        new Griffin.Part(prefilling, chunk, c))), both);
                be.download(model.griffin().forward(decodingAlone, step, 1, Outputs.LAST), alone);
                CheckResult r = Tolerance.KERNEL.compare(tag + ", pass " + passes + ", decode row",
                        Arrays.copyOfRange(both, 0, vocab), alone, vocab);
                if (!r.passed()) {
                    return r;
                }
                worst = Math.max(worst, r.maxError());
                be.download(model.griffin().forward(prefillingAlone, chunk, c, Outputs.LAST), alone);
                r = Tolerance.KERNEL.compare(tag + ", pass " + passes + ", prefill row",
                        Arrays.copyOfRange(both, vocab, 2 * vocab), alone, vocab);
                if (!r.passed()) {
                    return r;
                }
                worst = Math.max(worst, r.maxError());
                fed += c;
            }
            return new CheckResult(tag + ", " + passes + " passes", true, worst, Tolerance.KERNEL.toString(), "");
        }
    }

    private static int argmaxRow(float[] x, int row, int cols) {
        int best = 0;
        for (int c = 1; c < cols; c++) {
            if (x[row * cols + c] > x[row * cols + best]) {
                best = c;
            }
        }
        return best;
    }
}
