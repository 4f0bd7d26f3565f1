package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.core.TestFiles;
import org.junit.jupiter.api.Test;

/** A sequence fed in chunks (chunked prefill, chat turns) gives the same logits as one call. */
class ContinuationTest {
    @Test
    void chunkedPrefillEqualsOneCall() {
        int[] ids = new int[37]; // longer than the window (16) so the ring buffer wraps inside and across chunks
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        ids[0] = 2;
        for (int i = 1; i < ids.length; i++) {
            ids[i] = 3 + r.nextInt(500);
        }
        try (Model m = Model.load(TestFiles.modelFixture("tiny-f32"), LoadOptions.defaults().withBackend("reference"));
                ModelState whole = m.newState(1); ModelState parts = m.newState(1)) {
            int v = m.config().vocabSize();
            float[] a = new float[v];
            float[] b = new float[v];
            m.backend().download(m.griffin().forward(whole, ids, ids.length, Outputs.LAST), a);
            int[][] chunks = {java.util.Arrays.copyOfRange(ids, 0, 5), java.util.Arrays.copyOfRange(ids, 5, 6),
                    java.util.Arrays.copyOfRange(ids, 6, 30), java.util.Arrays.copyOfRange(ids, 30, 37)};
            for (int[] c : chunks) {
                m.backend().download(m.griffin().forward(parts, c, c.length, Outputs.LAST), b);
            }
            for (int i = 0; i < v; i++) {
                assertEquals(a[i], b[i], 2e-5, "logit " + i);
            }
            assertEquals(37, parts.position(0));
        }
    }
}
