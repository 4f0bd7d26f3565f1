package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rg.core.config.ModelConfig;
import dev.rg.core.generate.PrefillBatch;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The server prefills arriving prompts as rows of one {@link PrefillBatch}. On the reference backend each row's
 * logits are bit for bit those of its prompt prefilled alone in the same chunks (rg-core's PrefillBatchTest, with
 * joins, resumes and leaves). The vector backend's matmul picks its register tile by the number of rows (1 x 4 for
 * one row, 4 x 4 / 2 x 4 / 1 x 4 in a batch, K-blocked partial sums past 16 rows), and those tiles sum in different
 * orders, so a row's logits move in the last bits with the batch it is in: already for batched decode (6 rows of 1
 * token vs 1, bf16: 0.85861766 vs 0.85861826). Here, on the server's default backend, on the embedded model as stored
 * and on random bf16 and f32 weights: every row's logits stay within the conformance kit's kernel tolerance of its
 * solo prefill and pick the same greedy token.
 */
class BatchedPrefillExactnessTest {

    @Test
    void embeddedModelOnTheVectorBackend() {
        try (Model m = Model.load(TestServers.austen(), LoadOptions.defaults().withBackend("vector"))) {
            check(m, new Random(14));
        }
    }

    @Test
    void randomBf16AndF32WeightsOnTheVectorBackend() {
        for (String format : new String[] {"bf16", "f32"}) {
            try (Model m = Model.random(ModelConfig.presetTiny(), format, 7, LoadOptions.defaults().withBackend("vector"),
                    LoadProgress.NONE)) {
                check(m, new Random(format.hashCode()));
            }
        }
    }

    /** Nine random prompts (1..40 tokens) through 6 rows, a random budget per round; every row's logits vs its solo shadow. */
    private static void check(Model m, Random rnd) {
        int vocab = m.config().vocabSize();
        int n = 9;
        int[][] prompts = new int[n][];
        for (int i = 0; i < n; i++) {
            prompts[i] = new int[1 + rnd.nextInt(40)];
            prompts[i][0] = m.config().bosId();
            for (int t = 1; t < prompts[i].length; t++) {
                prompts[i][t] = 3 + rnd.nextInt(vocab - 3);
            }
        }
        PrefillBatch.Row[] rows = new PrefillBatch.Row[n];
        ModelState[] solo = new ModelState[n];
        int[] fed = new int[n];
        float[] one = new float[vocab];
        int next = 0;
        int largest = 0;
        int compared = 0;
        try (PrefillBatch p = new PrefillBatch(m, 6)) {
            while (next < n || p.size() > 0) {
                while (next < n && p.hasRoom()) {
                    solo[next] = m.newState(1);
                    rows[next] = p.join(prompts[next]);
                    next++;
                }
                largest = Math.max(largest, p.size());
                int c = p.chunk(1 + rnd.nextInt(64));
                float[] got = new float[p.size() * vocab];
                m.backend().download(p.advance(c), got);
                for (int i = 0; i < n; i++) {
                    if (rows[i] == null || rows[i].left()) {
                        continue;
                    }
                    m.backend().download(m.griffin().forward(solo[i], Arrays.copyOfRange(prompts[i], fed[i], fed[i] + c), c,
                            Outputs.LAST), one);
                    fed[i] += c;
                    int off = rows[i].row() * vocab;
                    String what = "prompt " + i + " after " + fed[i] + " tokens, prefilled as one of " + p.size() + " rows of " + c
                            + " tokens";
                    for (int v = 0; v < vocab; v++) {
                        float allowed = 2e-5f + 2e-4f * Math.abs(one[v]);
                        if (!(Math.abs(got[off + v] - one[v]) <= allowed)) {
                            fail("logit " + v + " of " + what + ": " + got[off + v] + " vs " + one[v] + " alone");
                        }
                    }
                    assertEquals(argmax(one, 0, vocab), argmax(got, off, vocab), "greedy token of " + what);
                    compared++;
                }
                for (int i = 0; i < n; i++) {
                    if (rows[i] != null && !rows[i].left() && rows[i].done()) {
                        assertEquals(prompts[i].length, fed[i]);
                        p.leave(rows[i]);
                        solo[i].close();
                    }
                }
            }
        }
        assertTrue(largest > 1 && compared > n, "prompts were prefilled together");
    }

    private static int argmax(float[] x, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[off + i] > x[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
