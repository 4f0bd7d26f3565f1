package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Weight;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.Tolerance;
import dev.rg.core.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The 4-bit decode kernel that reads codes as 32-bit words ({@link Nf4WordRowDot}: rows of whole 128-element chunks on
 * 512-bit shapes), which the conformance kit's odd shapes do not reach for one activation row: decode (four-row tiles
 * and the rows left over) and, through the same weight, the batches and prefill it hands to {@link Nf4RowDot} in that
 * kernel's own activation layout, on one and two threads, against the reference kernels.
 */
class Nf4WordRowDotTest {
    private static final int[] INS = {128, 256, 2560};
    private static final int[] OUTS = {1, 5, 8, 37};
    private static final int[] NS = {1, 2, 3, 4, 5, 7, 16, 17, 40};

    @Test
    void takesTheWordKernelWhereItApplies() {
        WeightFormat nf4 = WeightFormats.byName("nf4");
        boolean wide = Simd.L == 16;
        assertEquals(wide, RowDots.forWeight(nf4, 2560) instanceof Nf4WordRowDot, "2560 columns on " + Simd.describe());
        assertTrue(!(RowDots.forWeight(nf4, 320) instanceof Nf4WordRowDot), "320 columns are not whole 128-chunks");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nf4", "fp4", "nf4-dq"})
    void matchesTheReference(String format) {
        WeightFormat f = WeightFormats.byName(format);
        ReferenceKernels ref = new ReferenceKernels();
        for (int threads : new int[] {1, 2}) {
            try (Arena arena = Arena.ofShared();
                    VectorBackend b = new VectorBackend(new BackendOptions(threads, Map.of("chunk-kb", "0")))) {
                TestWeights t = new TestWeights(arena, 17 + threads);
                for (int in : INS) {
                    for (int out : OUTS) {
                        HostWeight w = t.random("w", f, 1.0 / Math.sqrt(in), out, in);
                        Weight vw = b.loadWeight(w);
                        for (int n : NS) {
                            HostTensor x = t.tensor(n, in, 1.0);
                            HostTensor got = new HostTensor(n, out);
                            HostTensor want = new HostTensor(n, out);
                            b.kernels().matmul(x, vw, null, got);
                            ref.matmul(x, w, null, want);
                            CheckResult r = Tolerance.KERNEL.compare(format + " " + n + "x" + in + "->" + out + " threads "
                                    + threads, got.data(), want.data(), want.data().length);
                            assertTrue(r.passed(), r.toString());
                        }
                    }
                }
            }
        }
    }
}
