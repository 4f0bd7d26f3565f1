package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.TestFiles;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A prompt longer than one prefill chunk runs in fixed-size chunks: its activation memory is bounded by
 * {@link Griffin#CHUNK_ROWS} rows whatever its length, and its logits equal those of one unchunked pass (an
 * observed call is never chunked, which gives the one-pass result to compare with).
 */
class ChunkedPrefillTest {
    private static final LoadOptions REF = LoadOptions.defaults().withBackend("reference");
    private static final LayerObserver ONE_PASS = (layer, hidden) -> {};

    private static int[] randomIds(int batch, int length, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[batch * length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i % length == 0 ? 2 : 3 + r.nextInt(vocab - 3);
        }
        return ids;
    }

    @Test
    void longPromptUsesBoundedWorkspacesAndMatchesOnePass() {
        int length = 2 * Griffin.CHUNK_ROWS + 37; // three chunks, the last one short
        try (Model m = Model.load(TestFiles.modelFixture("tiny-f32"), REF)) {
            int v = m.config().vocabSize();
            for (int batch : new int[] {1, 3}) {
                int[] ids = randomIds(batch, length, v, 17 + batch);
                for (Outputs outputs : new Outputs[] {Outputs.LAST, Outputs.ALL}) {
                    int rows = outputs == Outputs.ALL ? batch * length : batch;
                    float[] chunked = new float[rows * v];
                    float[] whole = new float[rows * v];
                    try (ModelState a = m.newState(batch); ModelState b = m.newState(batch)) {
                        m.backend().download(m.griffin().forward(a, ids, length, outputs), chunked);
                        assertTrue(a.workspaces().largestRows() <= Griffin.CHUNK_ROWS,
                                "prefill of " + length + " tokens x " + batch + " used " + a.workspaces().largestRows() + " rows");
                        m.backend().download(m.griffin().forward(b, ids, length, outputs, ONE_PASS), whole);
                        assertEquals(batch * length, b.workspaces().largestRows());
                        for (int i = 0; i < whole.length; i++) {
                            assertEquals(whole[i], chunked[i], 2e-5, outputs + " batch " + batch + " logit " + i);
                        }
                        assertEquals(length, a.position(batch - 1));
                    }
                }
            }
        }
    }

    @Test
    void lossOverLongTextMatchesOnePass() {
        try (Model m = Model.load(TestFiles.modelFixture("tiny-f32"), REF); ModelState s = m.newState(1)) {
            int v = m.config().vocabSize();
            int length = Griffin.CHUNK_ROWS + 90;
            int[] ids = randomIds(1, length, v, 5);
            float[] all = new float[length * v];
            m.backend().download(m.griffin().forward(s, ids, length, Outputs.ALL, ONE_PASS), all);
            double sum = 0;
            for (int t = 0; t + 1 < length; t++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < v; i++) {
                    max = Math.max(max, all[t * v + i]);
                }
                double z = 0;
                for (int i = 0; i < v; i++) {
                    z += Math.exp(all[t * v + i] - max);
                }
                sum += Math.log(z) + max - all[t * v + ids[t + 1]];
            }
            Loss.Result r = Loss.of(m, ids);
            assertEquals(length - 1, r.count());
            assertEquals(sum, r.sum(), 1e-6 * length);
        }
    }
}
