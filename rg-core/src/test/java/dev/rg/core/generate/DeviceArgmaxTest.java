package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.reference.ReferenceBackend;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Greedy rows picked on the backend ({@code Kernels.argmax}, one id per row) get exactly the tokens that sampling the
 * downloaded rows gives, ties included; an id that NaN logits give (0, the pad id) sends the caller back to the rows.
 */
class DeviceArgmaxTest {
    private static final int PAD = 0;

    @Test
    void greedyRowsGetTheTokensOfTheDownloadedRowsTiesIncluded() {
        SplittableRandom r = new SplittableRandom(20261207);
        try (Backend backend = new ReferenceBackend()) {
            for (int trial = 0; trial < 200; trial++) {
                int rows = 1 + r.nextInt(6);
                int vocab = 3 + r.nextInt(500);
                boolean ties = r.nextBoolean();
                float[] all = new float[rows * vocab];
                for (int i = 0; i < all.length; i++) {
                    all[i] = ties ? r.nextInt(4) - 1.5f : (float) (r.nextDouble() * 20 - 10);
                }
                Sampler[] samplers = new Sampler[rows];
                int[] want = new int[rows];
                int[] got = new int[rows];
                for (int b = 0; b < rows; b++) {
                    if (b == 0 || r.nextInt(4) != 0) { // some rows have no sampler (members fed a prompt token)
                        samplers[b] = new Sampler(SamplingParams.greedy(), new BitSet(), vocab);
                        want[b] = new Sampler(SamplingParams.greedy(), new BitSet(), vocab).sample(all, b * vocab);
                    }
                }
                assertTrue(DeviceArgmax.applies(samplers));
                boolean suspect = false;
                for (int b = 0; b < rows; b++) {
                    suspect |= samplers[b] != null && want[b] == PAD;
                }
                try (Tensor t = backend.allocate(rows, vocab)) {
                    backend.upload(all, t);
                    boolean picked = new DeviceArgmax().pick(backend.kernels(), t, samplers, PAD, got);
                    assertTrue(picked != suspect, "trial " + trial + ": gives up exactly when a row's argmax is the pad id");
                    if (picked) {
                        assertArrayEquals(want, got, "trial " + trial);
                    }
                }
            }
        }
    }

    @Test
    void nanLogitsSendTheCallerBackToTheRowsWhichNameTheValue() {
        try (Backend backend = new ReferenceBackend()) {
            int vocab = 50;
            float[] all = new float[2 * vocab];
            for (int i = 0; i < all.length; i++) {
                all[i] = i % 7 - 3f;
            }
            for (int i = vocab; i < all.length; i++) {
                all[i] = Float.NaN; // a NaN hidden state makes every logit of its row NaN
            }
            Sampler[] samplers = {new Sampler(SamplingParams.greedy(), new BitSet(), vocab),
                new Sampler(SamplingParams.greedy(), new BitSet(), vocab)};
            try (Tensor t = backend.allocate(2, vocab)) {
                backend.upload(all, t);
                assertFalse(new DeviceArgmax().pick(backend.kernels(), t, samplers, 1, new int[2]));
            }
            assertThrows(RuntimeException.class, () -> samplers[1].sample(all, vocab), "the host path names the NaN");
        }
    }

    @Test
    void onlyGreedySamplersWithoutPenaltyQualify() {
        int vocab = 10;
        Sampler greedy = new Sampler(SamplingParams.greedy(), new BitSet(), vocab);
        Sampler penalised = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1.3f, 1), new BitSet(), vocab);
        Sampler warm = new Sampler(new SamplingParams(0.7f, 40, 1f, 0f, 1f, 1), new BitSet(), vocab);
        assertTrue(greedy.argmaxOnly() && !penalised.argmaxOnly() && !warm.argmaxOnly());
        assertFalse(DeviceArgmax.applies(greedy, warm));
        assertFalse(DeviceArgmax.applies(greedy, penalised));
        assertFalse(DeviceArgmax.applies(null, null), "no row to pick");
        assertTrue(DeviceArgmax.applies(null, greedy));
    }
}
