package dev.rg.conformance;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.core.reference.ReferenceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of the ops that fuse the residual add and the norm into matmuls can fail: a backend whose fused op
 * is wrong the way a device epilogue or staging loop could plausibly be fails that op's checks, while every other
 * check of the same backend passes.
 */
class BrokenNormsInMatmulsAreCaughtTest {

    @Test
    void anEpilogueThatOverwritesTheResidual() {
        assertOnlyFails("matmulAdd", ok -> new Plain(ok) {
            @Override
            public void matmulAdd(Tensor x, Weight w, Weight bias, Tensor delta, Tensor residual) {
                ok.matmul(x, w, bias, residual);
            }
        });
    }

    @Test
    void aGeluEpilogueThatDropsTheGelu() {
        assertOnlyFails("geluMulMatmulAdd", ok -> new Plain(ok) {
            @Override
            public void geluMulMatmulAdd(Tensor gate, Tensor up, Weight w, Weight bias, Tensor delta, Tensor residual) {
                ok.mul(gate, up, gate);
                ok.matmul(gate, w, bias, delta);
                ok.add(residual, delta, residual);
            }
        });
    }

    @Test
    void aGroupThatSkipsTheNorm() {
        assertOnlyFails("rmsNormMatmulGroup", ok -> new Plain(ok) {
            @Override
            public void rmsNormMatmulGroup(Tensor x, Weight scale, float eps, Tensor normed, Weight[] weights,
                    Weight[] biases, Tensor[] outs) {
                ok.matmulGroup(x, weights, biases, outs);
            }
        });
    }

    @Test
    void aGroupThatNormalisesInPlace() {
        assertOnlyFails("rmsNormMatmulGroup", ok -> new Plain(ok) {
            @Override
            public void rmsNormMatmulGroup(Tensor x, Weight scale, float eps, Tensor normed, Weight[] weights,
                    Weight[] biases, Tensor[] outs) {
                ok.rmsNorm(x, scale, eps, x); // the reference allows out == x; the op must leave x as it was
                ok.matmulGroup(x, weights, biases, outs);
            }
        });
    }

    private static void assertOnlyFails(String op, java.util.function.Function<Kernels, Kernels> broken) {
        List<CheckResult> results;
        ReferenceBackend ref = new ReferenceBackend();
        try (Backend b = new ReferenceWithKernels("broken-" + op, ref, broken.apply(ref.kernels()))) {
            results = new OpConformance(b).run();
        }
        List<CheckResult> mine = results.stream().filter(r -> r.name().startsWith(op + " ")).toList();
        assertFalse(mine.isEmpty(), "the kit has " + op + " checks");
        assertTrue(mine.stream().anyMatch(r -> !r.passed()), () -> "a broken " + op + " passed: " + mine);
        List<CheckResult> others = results.stream().filter(r -> !r.name().startsWith(op + " ") && !r.passed()).toList();
        assertTrue(others.isEmpty(), () -> "checks of other ops failed: " + others);
    }

    /** The plain ops the fused ones are checked against, natively (so the kit runs the fused ops on these kernels). */
    private static class Plain implements Kernels {
        final Kernels ok;

        Plain(Kernels ok) {
            this.ok = ok;
        }

        @Override
        public void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
            ok.matmul(x, w, bias, out);
        }

        @Override
        public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
            ok.rmsNorm(x, scale, eps, out);
        }

        @Override
        public void geluMul(Tensor gate, Tensor up, Tensor out) {
            ok.geluMul(gate, up, out);
        }

        @Override
        public void mul(Tensor a, Tensor b, Tensor out) {
            ok.mul(a, b, out);
        }

        @Override
        public void add(Tensor a, Tensor b, Tensor out) {
            ok.add(a, b, out);
        }
    }
}
