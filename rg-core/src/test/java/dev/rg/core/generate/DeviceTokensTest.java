package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.reference.ReferenceBackend;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The order the batched generators share ({@code rg batch}'s {@code ContinuousGenerator}, the server's scheduler): each
 * path serves only what its caller allows, gives the tokens sampling the downloaded rows gives, and an argmax id that
 * NaN logits give sends the caller back to the rows.
 */
class DeviceTokensTest {
    private static final int PAD = 0;
    private static final int VOCAB = 97;

    private static float[] randomLogits(SplittableRandom r, int rows) {
        float[] x = new float[rows * VOCAB];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() * 16 - 8);
        }
        for (int b = 0; b < rows; b++) {
            x[b * VOCAB + PAD] = -20f; // no row's argmax is the pad id, which the argmax path treats as NaN's
        }
        return x;
    }

    @Test
    void eachPathGivesTheTokensOfTheDownloadedRows() {
        SplittableRandom r = new SplittableRandom(20261208);
        try (Backend backend = new ReferenceBackend(); Tensor t = backend.allocate(3, VOCAB)) {
            for (int trial = 0; trial < 50; trial++) {
                float[] logits = randomLogits(r, 3);
                backend.upload(logits, t);
                boolean greedy = trial % 2 == 0;
                long seed = r.nextLong();
                Sampler[] device = new Sampler[3];
                int[] want = new int[3];
                for (int b = 0; b < 3; b++) {
                    SamplingParams p = greedy ? SamplingParams.greedy() : new SamplingParams(0.8f, 5, 0.9f, 0f, 1f, seed + b);
                    device[b] = new Sampler(p, new BitSet(), VOCAB);
                    want[b] = new Sampler(p, new BitSet(), VOCAB).sample(logits, b * VOCAB);
                }
                int[] got = new int[3];
                assertTrue(new DeviceTokens().pick(backend.kernels(), t, device, PAD, greedy, !greedy, got), "trial " + trial);
                assertArrayEquals(want, got, "trial " + trial);
            }
        }
    }

    @Test
    void pathsTheCallerRulesOutAreNotTaken() {
        SplittableRandom r = new SplittableRandom(7);
        try (Backend backend = new ReferenceBackend(); Tensor t = backend.allocate(2, VOCAB)) {
            backend.upload(randomLogits(r, 2), t);
            Sampler[] greedy = {new Sampler(SamplingParams.greedy(), new BitSet(), VOCAB), null};
            int[] out = {-1, -1};
            // e.g. a JSON mask or a logit_bias: the caller allows neither path, and nothing is written
            assertFalse(new DeviceTokens().pick(backend.kernels(), t, greedy, PAD, false, false, out));
            assertArrayEquals(new int[] {-1, -1}, out);
        }
    }

    @Test
    void nanLogitsSendTheCallerBackToTheRows() {
        try (Backend backend = new ReferenceBackend(); Tensor t = backend.allocate(1, VOCAB)) {
            float[] nan = new float[VOCAB];
            java.util.Arrays.fill(nan, Float.NaN);
            backend.upload(nan, t);
            Sampler[] greedy = {new Sampler(SamplingParams.greedy(), new BitSet(), VOCAB)};
            assertFalse(new DeviceTokens().pick(backend.kernels(), t, greedy, PAD, true, false, new int[1]));
        }
    }
}
