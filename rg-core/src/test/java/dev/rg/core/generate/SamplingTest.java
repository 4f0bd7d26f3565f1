package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplingTest {
    private static float[] randomLogits(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 8 - 4);
        }
        return x;
    }

    private static int[] draw(SamplingParams p, float[] logits, int n) {
        Sampler s = new Sampler(p, new BitSet(), logits.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits, 0);
        }
        return out;
    }

    @Test
    void sameSeedSameOutputOtherSeedOtherOutput() {
        float[] logits = randomLogits(1, 300);
        SamplingParams a = new SamplingParams(0.9f, 40, 0.95f, 0.01f, 1f, 42);
        assertArrayEquals(draw(a, logits, 50), draw(a, logits, 50));
        SamplingParams b = new SamplingParams(0.9f, 40, 0.95f, 0.01f, 1f, 43);
        assertFalse(java.util.Arrays.equals(draw(a, logits, 50), draw(b, logits, 50)));
    }

    @Test
    void topKOneIsGreedy() {
        float[] logits = randomLogits(2, 500);
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        for (int id : draw(new SamplingParams(1.5f, 1, 1f, 0f, 1f, 9), logits, 20)) {
            assertEquals(best, id);
        }
    }

    @Test
    void topKRestrictsToTheKLargest() {
        float[] logits = randomLogits(3, 200);
        Integer[] order = new Integer[200];
        for (int i = 0; i < 200; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Float.compare(logits[y], logits[x]));
        java.util.Set<Integer> top5 = java.util.Set.of(order[0], order[1], order[2], order[3], order[4]);
        for (int id : draw(new SamplingParams(5f, 5, 1f, 0f, 1f, 1), logits, 300)) {
            assertTrue(top5.contains(id));
        }
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        float[] logits = {0f, (float) Math.log(3)}; // p = 0.25, 0.75
        int ones = 0;
        for (int id : draw(new SamplingParams(1f, 0, 1f, 0f, 1f, 5), logits, 20000)) {
            ones += id;
        }
        assertEquals(0.75, ones / 20000.0, 0.015);
    }

    @Test
    void repetitionPenaltyAvoidsSeenTokens() {
        float[] logits = {5f, 4.9f, -3f};
        BitSet seen = new BitSet();
        seen.set(0);
        Sampler s = new Sampler(new SamplingParams(0.01f, 0, 1f, 0f, 2f, 1), seen, 3);
        assertEquals(1, s.sample(logits, 0));
    }

    @Test
    void absurdValuesAreRejectedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1, 0, 1, 0, 1, 0)).getMessage()
                .contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, -2, 1, 0, 1, 0)).getMessage()
                .contains("top-k"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 0, 1.5f, 0, 1, 0)).getMessage()
                .contains("top-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 0, 1, 1f, 1, 0)).getMessage()
                .contains("min-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 0, 1, 0, 0, 0)).getMessage()
                .contains("repetition"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new SamplingParams(Float.NaN, 0, 1, 0, 1, 0))
                .getMessage().contains("temperature"));
        assertThrows(IllegalArgumentException.class, () -> GenerationConfig.greedy(0));
        assertThrows(IllegalArgumentException.class,
                () -> new GenerationConfig(5, SamplingParams.greedy(), List.of(""), java.util.Set.of(), true));
    }

    @Test
    void stopStringsHoldBackAndCut() {
        StopStrings s = new StopStrings(List.of("\n\nEND"));
        StringBuilder out = new StringBuilder();
        for (String piece : new String[] {"Hello", " world\n", "\nE", "N", "D and more"}) {
            out.append(s.push(piece));
        }
        assertTrue(s.stopped());
        assertEquals("Hello world", out.toString());
        StopStrings t = new StopStrings(List.of("xyz"));
        assertEquals("ab", t.push("abxy"));
        assertEquals("", t.push(""));
        assertEquals("xyq", t.push("q"));
        assertEquals("x", t.push("x") + t.flush());
        assertNotEquals(true, t.stopped());
    }
}
