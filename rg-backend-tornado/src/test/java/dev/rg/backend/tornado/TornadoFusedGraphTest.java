package dev.rg.backend.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.tensor.Tensor;
import dev.rg.conformance.ConformanceKit;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Greedy decoding of a fixture model with the layers replayed as fused graphs gives exactly the logits of launching
 * every kernel alone, and a decode step then takes a handful of graph executions instead of one per kernel.
 */
class TornadoFusedGraphTest {
    private static final int STEPS = 8;

    /** Logits of a random prompt and {@code STEPS} greedy steps, flattened; ids[] receives the greedy ids. */
    private static float[] decode(Path dir, boolean fuse, int[] prompt, int[] ids, long[] launches) {
        LoadOptions options = new LoadOptions("tornado", 1, null, false, Map.of("fuse", Boolean.toString(fuse)));
        try (Model model = Model.load(dir, options); ModelState state = model.newState(1)) {
            int vocab = model.config().vocabSize();
            float[] out = new float[(STEPS + 1) * vocab];
            float[] row = new float[vocab];
            int[] next = new int[1];
            Tensor logits = model.griffin().forward(state, prompt, prompt.length, Outputs.LAST);
            for (int s = 0; s <= STEPS; s++) {
                model.backend().download(logits, row);
                System.arraycopy(row, 0, out, s * vocab, vocab);
                model.backend().kernels().argmax(logits, next);
                if (s < STEPS) {
                    ids[s] = next[0];
                    logits = model.griffin().forward(state, new int[] {next[0]}, 1, Outputs.LAST);
                }
            }
            Launcher l = ((TornadoBackend) model.backend()).session().launcher();
            launches[0] = l.fusedLaunches();
            launches[1] = l.lastStepLaunches();
            launches[2] = model.config().layers();
            return out;
        }
    }

    @Test
    void fusedLayersDecodeExactlyAsSingleLaunches() {
        Path dir = ConformanceKit.sharedDir().resolve("fixtures/model/tiny-bf16");
        Random random = new Random(1717);
        int[] prompt = new int[5];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 3 + random.nextInt(200);
        }
        int[] fusedIds = new int[STEPS];
        int[] aloneIds = new int[STEPS];
        long[] fused = new long[3];
        long[] alone = new long[3];
        float[] a = decode(dir, true, prompt, fusedIds, fused);
        float[] b = decode(dir, false, prompt, aloneIds, alone);
        assertArrayEquals(aloneIds, fusedIds, "greedy ids");
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        assertEquals(0f, worst, 1e-6f, "largest logit difference between fused and single launches");
        assertEquals(0, alone[0], "fuse=false launched fused graphs");
        assertTrue(fused[0] > 0, "no fused graph ran");
        // embedding, first layer's norm, one graph per layer, the head, the argmax (and nothing else)
        assertTrue(fused[1] <= fused[2] + 4, "a fused decode step took " + fused[1] + " executions for " + fused[2]
                + " layers; single launches: " + alone[1]);
        assertTrue(alone[1] > 3 * fused[1], "single launches " + alone[1] + " vs fused " + fused[1]);
    }
}
