package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.model.NonFiniteException;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The sampler never turns NaN into a token, and no temperature or penalty can overflow into NaN. */
class NonFiniteSamplingTest {
    private static float[] randomLogits(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 60 - 30);
        }
        return x;
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void oneNanLogitIsAnErrorNotTheLastToken() {
        float[] x = randomLogits(3, 400);
        x[123] = Float.NaN;
        Sampler s = new Sampler(new SamplingParams(0.8f, 0, 1f, 0f, 1f, 7), new BitSet(), x.length);
        NonFiniteException e = assertThrows(NonFiniteException.class, () -> s.sample(x, 0));
        assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("token 123"), e.getMessage());
        x[123] = Float.NEGATIVE_INFINITY;
        Sampler greedy = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1.2f, 7), new BitSet(), x.length);
        assertTrue(assertThrows(NonFiniteException.class, () -> greedy.sample(x, 0)).getMessage().contains("-Inf"));
    }

    @Test
    void tinyTemperaturesAreGreedyNotGarbage() {
        float[] x = randomLogits(4, 4096);
        int best = argmax(x);
        for (float t : new float[] {Float.MIN_VALUE, 1e-45f, 1e-40f, 1e-38f, 1e-30f}) {
            Sampler s = new Sampler(new SamplingParams(t, 0, 1f, 0f, 1f, 11), new BitSet(), x.length);
            for (int i = 0; i < 20; i++) {
                assertEquals(best, s.sample(x, 0), "temperature " + t);
            }
        }
    }

    @Test
    void tinyRepetitionPenaltyCannotOverflow() {
        float[] x = randomLogits(5, 1000);
        BitSet seen = new BitSet();
        seen.set(0, 1000, true);
        Sampler s = new Sampler(new SamplingParams(1e-20f, 0, 1f, 0f, Float.MIN_VALUE, 3), seen, x.length);
        int id = s.sample(x, 0);
        assertTrue(x[id] > 0, "a positive logit divided by a tiny penalty wins, got " + id + " with " + x[id]);
    }
}
