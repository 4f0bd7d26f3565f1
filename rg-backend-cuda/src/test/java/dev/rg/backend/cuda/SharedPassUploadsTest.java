package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rg.api.tensor.Tensor;
import dev.rg.backend.cuda.device.DeviceBackend;
import dev.rg.backend.cuda.device.KernelLauncher;
import dev.rg.backend.cuda.opencl.OpenClSimBackendProvider;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Host-to-device copies of decode steps and of shared passes ({@link Griffin#forwardTogether}: a decode step and a
 * prompt's chunk in one pass), on the OpenCL double of the CUDA backend with graphs on. A shared pass's ops alternate
 * between its parts inside every layer; each part must keep its positions on the device for the whole pass (one
 * upload per part, not one at every switch), and the decode steps around it must still replay their recorded graphs
 * from the step's own positions buffer, with the logits of eager launches bit for bit.
 */
class SharedPassUploadsTest {
    private static final ModelConfig CONFIG = ModelConfig.presetTiny().withLayers(5); // r, r, attention, r, r
    private static final int DECODING = 2;
    private static final int PROMPT = 12;
    private static final int CHUNK = 4;
    /** Decode steps, with a shared pass after the steps listed in {@link #SHARED_AFTER}. */
    private static final int STEPS = 8;
    private static final List<Integer> SHARED_AFTER = List.of(2, 4, 5);

    /** Every pass's logits and host-to-device copies, and the round trips of each decode step. */
    private record Run(List<float[]> logits, List<Long> writes, long[] stepSubmissions) {}

    private static Run run(Model m, boolean graphs) {
        KernelLauncher launcher = ((DeviceBackend) m.backend()).launcher();
        launcher.useGraphs(graphs);
        Griffin g = m.griffin();
        Random r = new Random(20261206);
        List<float[]> logits = new ArrayList<>();
        List<Long> writes = new ArrayList<>();
        long[] stepSubmissions = new long[STEPS];
        try (ModelState decoding = m.newState(DECODING); ModelState prompt = m.newState(1)) {
            int[] next = new int[DECODING];
            g.kernels().argmax(g.forward(decoding, randomIds(r, DECODING * 5), 5, Outputs.LAST), next);
            int[] promptIds = randomIds(r, PROMPT);
            int fed = 0;
            for (int step = 0; step < STEPS; step++) {
                long before = launcher.submissions();
                long writesBefore = launcher.writes();
                Tensor out = g.forward(decoding, next.clone(), 1, Outputs.LAST);
                writes.add(launcher.writes() - writesBefore);
                g.kernels().argmax(out, next);
                stepSubmissions[step] = launcher.submissions() - before;
                logits.add(download(m, out));
                if (SHARED_AFTER.contains(step)) {
                    int[] chunk = Arrays.copyOfRange(promptIds, fed, fed + CHUNK);
                    fed += CHUNK;
                    writesBefore = launcher.writes();
                    Tensor both = g.forwardTogether(List.of(new Griffin.Part(decoding, next.clone(), 1),
                            new Griffin.Part(prompt, chunk, CHUNK)));
                    writes.add(launcher.writes() - writesBefore);
                    float[] v = download(m, both);
                    logits.add(v);
                    // the decode part's tokens were consumed: the next step feeds the pass's choice for them
                    int[] chosen = new int[DECODING + 1];
                    g.kernels().argmax(both, chosen);
                    System.arraycopy(chosen, 0, next, 0, DECODING);
                }
            }
        }
        return new Run(logits, writes, stepSubmissions);
    }

    private static int[] randomIds(Random r, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 1 + r.nextInt(CONFIG.vocabSize() - 1);
        }
        return ids;
    }

    private static float[] download(Model m, Tensor t) {
        float[] v = new float[Math.toIntExact(t.size())];
        m.backend().download(t, v);
        return v;
    }

    @Test
    void aSharedPassUploadsEachPartsPositionsOnceAndDecodeStepsStillReplay() {
        var provider = new OpenClSimBackendProvider();
        Assumptions.assumeTrue(provider.probe().available(), () -> "skipped: no OpenCL device (" + provider.probe().reason() + ")");
        LoadOptions options = new LoadOptions(OpenClSimBackendProvider.NAME, 1, "bf16", false, Map.of(DeviceBackend.GRAPHS, "on"));
        try (Model m = Model.random(CONFIG, "bf16", 20261206, options, LoadProgress.NONE)) {
            Run eager = run(m, false);
            Run replayed = run(m, true);
            for (int pass = 0; pass < eager.logits().size(); pass++) {
                float[] a = eager.logits().get(pass);
                float[] b = replayed.logits().get(pass);
                for (int i = 0; i < a.length; i++) {
                    if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                        fail("pass " + pass + ": logit " + i + " is " + b[i] + " with graphs, " + a[i] + " eager");
                    }
                }
            }
            // a decode step: its token ids and its positions; a shared pass: the ids and each of its two parts' positions
            List<Long> expected = new ArrayList<>();
            for (int step = 0; step < STEPS; step++) {
                expected.add(2L);
                if (SHARED_AFTER.contains(step)) {
                    expected.add(3L);
                }
            }
            assertEquals(expected, eager.writes(), "host-to-device copies of each pass (decode steps and shared passes)");
            assertEquals(expected, replayed.writes());
            // the steps after a shared pass (3, 5, 6) replay every group: the pass neither moved the step's positions
            // buffer nor the decode batch's activation and head buffers
            long full = GraphReplayTest.submissionsPerReplayedStep(CONFIG);
            for (int step : new int[] {2, 3, 5, 6, 7}) {
                assertEquals(full, replayed.stepSubmissions()[step], "host round trips of replayed decode step " + step);
            }
        }
    }
}
