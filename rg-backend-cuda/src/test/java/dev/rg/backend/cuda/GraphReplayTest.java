package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
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
 * Decode steps replayed from recorded groups ({@code graphs=on}) on the OpenCL double of the CUDA backend, where a
 * "graph" is the recorded launch list launched again: the logits must be bitwise those of the eager launches, step
 * after step, while the batch shrinks and grows as a continuous-batching decoder's members leave and join
 * ({@link ModelState#useFirst}); and a replayed step must cost one host round trip per layer. Both hold only if
 * every input that changes per step (token ids, positions) reaches the kernels through device memory: a position
 * passed by value would make each step's launch list new (nothing replayed, the count fails), a stale one would
 * change the logits.
 */
class GraphReplayTest {
    /** Batch sizes of consecutive decode steps: members leave (4 to 2, to 1) and join (back to 4, to 3). */
    private static final int[] SCHEDULE = {4, 4, 4, 4, 2, 2, 2, 4, 4, 1, 1, 1, 3, 3, 3, 2};
    private static final int CAPACITY = 4;
    private static final int PROMPT = 5;

    private static final ModelConfig CONFIG = ModelConfig.presetTiny().withLayers(5); // r, r, attention, r, r

    /**
     * Host round trips of a fully replayed decode step: embedding and first norm, one graph per layer, the copy of
     * the last rows is a device copy (not counted), one graph for the head, the argmax.
     */
    static long submissionsPerReplayedStep(ModelConfig c) {
        return DecodeLaunchCountTest.PROLOGUE + c.layers() + 1 + DecodeLaunchCountTest.ARGMAX;
    }

    /** What one run of the schedule gives: each step's logits, and the host round trips of each step. */
    private record Run(List<float[]> logits, long[] submissions, long graphLaunches) {}

    private static Run decode(Model m, boolean graphs) {
        KernelLauncher launcher = ((DeviceBackend) m.backend()).launcher();
        launcher.useGraphs(graphs);
        Griffin g = m.griffin();
        Random r = new Random(20261205);
        long graphsBefore = launcher.graphLaunches();
        try (ModelState s = m.newState(CAPACITY)) {
            int[] prompt = new int[CAPACITY * PROMPT];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + r.nextInt(CONFIG.vocabSize() - 1);
            }
            int[] next = new int[CAPACITY];
            g.kernels().argmax(g.forward(s, prompt, PROMPT, Outputs.LAST), next);
            List<float[]> logits = new ArrayList<>();
            long[] submissions = new long[SCHEDULE.length];
            for (int step = 0; step < SCHEDULE.length; step++) {
                int n = SCHEDULE[step];
                s.useFirst(n);
                long before = launcher.submissions();
                Tensor out = g.forward(s, Arrays.copyOf(next, n), 1, Outputs.LAST);
                int[] chosen = new int[n];
                g.kernels().argmax(out, chosen);
                submissions[step] = launcher.submissions() - before;
                System.arraycopy(chosen, 0, next, 0, n);
                float[] v = new float[Math.toIntExact(out.size())];
                m.backend().download(out, v);
                logits.add(v);
            }
            return new Run(logits, submissions, launcher.graphLaunches() - graphsBefore);
        }
    }

    @Test
    void replayedStepsGiveTheEagerLogitsBitwiseAcrossJoinsAndLeaves() {
        var provider = new OpenClSimBackendProvider();
        Assumptions.assumeTrue(provider.probe().available(), () -> "skipped: no OpenCL device (" + provider.probe().reason() + ")");
        LoadOptions options = new LoadOptions(OpenClSimBackendProvider.NAME, 1, "bf16", false,
                Map.of(DeviceBackend.GRAPHS, "on"));
        try (Model m = Model.random(CONFIG, "bf16", 20261205, options, LoadProgress.NONE)) {
            assertTrue(((DeviceBackend) m.backend()).launcher().graphs(), "graphs=on reaches the launcher");
            Run eager = decode(m, false);
            Run replayed = decode(m, true);
            assertEquals(0, eager.graphLaunches());
            assertTrue(replayed.graphLaunches() > 0, "no group was replayed");
            for (int step = 0; step < SCHEDULE.length; step++) {
                float[] a = eager.logits().get(step);
                float[] b = replayed.logits().get(step);
                assertEquals(a.length, b.length);
                for (int i = 0; i < a.length; i++) {
                    if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                        fail("step " + step + " (batch " + SCHEDULE[step] + "): logit " + i + " is " + b[i] + " replayed, "
                                + a[i] + " eager");
                    }
                }
            }
            long full = submissionsPerReplayedStep(CONFIG);
            long eagerStep = DecodeLaunchCountTest.launchesPerDecodeStep(CONFIG);
            for (int step = 0; step < SCHEDULE.length; step++) {
                assertEquals(eagerStep, eager.submissions()[step], "eager step " + step);
            }
            // a batch size's third step in a row replays every group
            for (int step : new int[] {2, 3, 6, 11, 14}) {
                assertEquals(full, replayed.submissions()[step], "host round trips of replayed step " + step + " (batch "
                        + SCHEDULE[step] + ")");
            }
            // back at batch 4 (step 7) the layers' and the head's graphs recorded at steps 1-3 replay at once: rg-core
            // keeps the workspaces and the head's buffers of the last three batch sizes, so their addresses are the same
            assertEquals(full, replayed.submissions()[7], "host round trips of step 7 (batch 4 again)");
        }
    }

    /** The figures the README gives: a fully replayed 2B decode step is 29 host round trips (187 eager), 9B 41 (271). */
    @Test
    void modelFigures() {
        assertEquals(29, submissionsPerReplayedStep(ModelConfig.preset2b()));
        assertEquals(41, submissionsPerReplayedStep(ModelConfig.preset9b()));
    }
}
