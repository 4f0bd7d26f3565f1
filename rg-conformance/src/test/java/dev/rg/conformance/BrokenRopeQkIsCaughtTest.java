package dev.rg.conformance;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.reference.ReferenceBackend;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kit's {@code ropeQk} checks can fail: a backend whose fused rotation is wrong in a way a device kernel could
 * plausibly be (k left unrotated; every sequence rotated at the first one's position) fails them, while every other
 * check of the same backend passes, so the failure points at the op.
 */
class BrokenRopeQkIsCaughtTest {

    /** A broken fused rotation. */
    private interface Broken {
        void ropeQk(Kernels ok, Tensor q, Tensor k, SeqBatch seq, int heads, int kvHeads, int headDim, int rot, float theta);
    }

    @Test
    void kLeftUnrotated() {
        assertOnlyRopeQkFails((ok, q, k, seq, heads, kvHeads, hd, rot, theta) -> ok.rope(q, seq, heads, hd, rot, theta));
    }

    @Test
    void everySequenceAtTheFirstOnesPosition() {
        assertOnlyRopeQkFails((ok, q, k, seq, heads, kvHeads, hd, rot, theta) -> {
            int[] same = new int[seq.batch()];
            Arrays.fill(same, seq.startPositions()[0]);
            SeqBatch wrong = new SeqBatch(seq.batch(), seq.length(), same);
            ok.rope(q, wrong, heads, hd, rot, theta);
            ok.rope(k, wrong, kvHeads, hd, rot, theta);
        });
    }

    private static void assertOnlyRopeQkFails(Broken broken) {
        List<CheckResult> results;
        try (Backend b = brokenBackend(broken)) {
            results = new OpConformance(b).run();
        }
        List<CheckResult> ropeQk = results.stream().filter(r -> r.name().startsWith("ropeQk")).toList();
        assertFalse(ropeQk.isEmpty(), "the kit has ropeQk checks");
        assertTrue(ropeQk.stream().anyMatch(r -> !r.passed()), () -> "a broken ropeQk passed: " + ropeQk);
        List<CheckResult> others = results.stream().filter(r -> !r.name().startsWith("ropeQk") && !r.passed()).toList();
        assertTrue(others.isEmpty(), () -> "checks of other ops failed: " + others);
    }

    /** The reference backend, except that its kernels' {@code ropeQk} is {@code broken} (rope itself is right). */
    private static Backend brokenBackend(Broken broken) {
        ReferenceBackend ref = new ReferenceBackend();
        Kernels ok = ref.kernels();
        return new ReferenceWithKernels("broken-ropeQk", ref, new Kernels() {
            @Override
            public void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
                ok.rope(x, seq, heads, headDim, rotaryDim, theta);
            }

            @Override
            public void ropeQk(Tensor q, Tensor k, SeqBatch seq, int heads, int kvHeads, int headDim, int rotaryDim,
                    float theta) {
                broken.ropeQk(ok, q, k, seq, heads, kvHeads, headDim, rotaryDim, theta);
            }
        });
    }
}
