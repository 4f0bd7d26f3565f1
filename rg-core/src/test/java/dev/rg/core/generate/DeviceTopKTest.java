package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.reference.ReferenceBackend;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Sampling from Kernels.topK must pick exactly the tokens that sampling from the downloaded row picks. */
class DeviceTopKTest {
    private static final float[] TEMPERATURES = {0.3f, 1f, 2.5f, 1e-30f};
    private static final float[] TOP_P = {1f, 0.95f, 0.5f};
    private static final float[] MIN_P = {0f, 0.05f};

    /** Logits with many exact ties (few levels), or continuous; -0 and +0 both appear among the levels. */
    private static float[] logits(SplittableRandom r, int n) {
        float[] x = new float[n];
        boolean ties = r.nextBoolean();
        float[] levels = {-3.5f, -1f, -0f, 0f, 0.25f, 2f, 7.75f};
        for (int i = 0; i < n; i++) {
            x[i] = ties ? levels[r.nextInt(levels.length)] : (float) (r.nextDouble() * 20 - 10);
        }
        return x;
    }

    private static SamplingParams params(SplittableRandom r, int vocab) {
        return new SamplingParams(TEMPERATURES[r.nextInt(TEMPERATURES.length)], 1 + r.nextInt(vocab + 5),
                TOP_P[r.nextInt(TOP_P.length)], MIN_P[r.nextInt(MIN_P.length)], 1f, r.nextLong());
    }

    @Test
    void topKPathPicksTheSameTokensAsTheFullRowForRandomLogitsAndSeeds() {
        SplittableRandom r = new SplittableRandom(20261205);
        try (Backend backend = new ReferenceBackend()) {
            for (int trial = 0; trial < 300; trial++) {
                int rows = 1 + r.nextInt(4);
                int vocab = 2 + r.nextInt(400);
                float[] all = new float[rows * vocab];
                Sampler[] full = new Sampler[rows];
                Sampler[] device = new Sampler[rows];
                for (int b = 0; b < rows; b++) {
                    System.arraycopy(logits(r, vocab), 0, all, b * vocab, vocab);
                    // every row its own settings, so the batch's k (the largest) serves rows asking fewer
                    SamplingParams p = params(r, vocab);
                    full[b] = new Sampler(p, new BitSet(), vocab);
                    device[b] = new Sampler(p, new BitSet(), vocab);
                    assertTrue(device[b].deviceTopK() > 0);
                }
                assertTrue(DeviceTopK.applies(device));
                DeviceTopK topK = new DeviceTopK();
                int[] picked = new int[rows];
                try (Tensor t = backend.allocate(rows, vocab)) {
                    backend.upload(all, t);
                    for (int draw = 0; draw < 6; draw++) { // several draws: the random streams must stay in step
                        topK.sample(backend.kernels(), t, device, picked);
                        for (int b = 0; b < rows; b++) {
                            assertEquals(full[b].sample(all, b * vocab), picked[b], "trial " + trial + ", row " + b + ", draw " + draw);
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowsWithoutASamplerAreLeftAlone() {
        SplittableRandom r = new SplittableRandom(7);
        try (Backend backend = new ReferenceBackend(); Tensor t = backend.allocate(2, 50)) {
            float[] all = new float[100];
            for (int i = 0; i < all.length; i++) {
                all[i] = (float) r.nextGaussian();
            }
            backend.upload(all, t);
            SamplingParams p = new SamplingParams(0.8f, 5, 1f, 0f, 1f, 3);
            Sampler full = new Sampler(p, new BitSet(), 50);
            int[] picked = {-7, -7};
            new DeviceTopK().sample(backend.kernels(), t, new Sampler[] {null, new Sampler(p, new BitSet(), 50)}, picked);
            assertEquals(-7, picked[0]);
            assertEquals(full.sample(all, 50), picked[1]);
        }
    }

    @Test
    void greedyNoTopKOrARepetitionPenaltyNeedTheWholeRow() {
        BitSet seen = new BitSet();
        assertEquals(0, new Sampler(SamplingParams.greedy(), seen, 10).deviceTopK());
        assertEquals(0, new Sampler(new SamplingParams(1f, 0, 0.9f, 0f, 1f, 1), seen, 10).deviceTopK());
        Sampler penalised = new Sampler(new SamplingParams(1f, 4, 1f, 0f, 1.3f, 1), seen, 10);
        assertEquals(0, penalised.deviceTopK());
        assertFalse(DeviceTopK.applies(new Sampler(new SamplingParams(1f, 4, 1f, 0f, 1f, 1), seen, 10), penalised));
        assertFalse(DeviceTopK.applies(null, null));
        assertThrows(IllegalStateException.class, () -> penalised.sampleTop(new int[4], new float[4], 0));
        assertEquals(10, new Sampler(new SamplingParams(1f, 500, 1f, 0f, 1f, 1), seen, 10).deviceTopK());
    }
}
