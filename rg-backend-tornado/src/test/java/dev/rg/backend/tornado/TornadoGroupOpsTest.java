package dev.rg.backend.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.Tensor;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A recurring group of elementwise launches gives the same numbers op by op and as a fused graph. */
class TornadoGroupOpsTest {
    @Test
    void aRecurringGroupRunsAsOneGraphWithTheSameResults() {
        Random random = new Random(99);
        int n = 1000;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextFloat() * 4 - 2;
            b[i] = random.nextFloat() * 4 - 2;
        }
        float[] want = new float[n];
        for (int i = 0; i < n; i++) {
            float s = a[i] + b[i];
            float m = s * b[i];
            want[i] = m + a[i];
        }
        try (Backend be = new TornadoBackendProvider().create(new BackendOptions(1, Map.of()))) {
            Kernels k = be.kernels();
            Tensor ta = be.allocate(1, n);
            Tensor tb = be.allocate(1, n);
            Tensor s = be.allocate(1, n);
            Tensor out = be.allocate(1, n);
            be.upload(a, ta);
            be.upload(b, tb);
            Launcher l = ((TornadoBackend) be).session().launcher();
            for (int round = 0; round < 4; round++) {
                be.upload(new float[n], out);
                k.group(() -> {
                    k.add(ta, tb, s);
                    k.mul(s, tb, s);
                    k.add(s, ta, out);
                });
                float[] got = new float[n];
                be.download(out, got);
                assertArrayEquals(want, got, 1e-6f, "round " + round + ", fused launches so far " + l.fusedLaunches());
            }
            assertTrue(l.fusedLaunches() >= 1, "the recurring group never ran as a fused graph");
        }
    }

    /** Two launches of one kernel with different sizes in one group: each keeps its own grid. */
    @Test
    void launchesOfOneKernelKeepTheirOwnSizes() {
        Random random = new Random(7);
        int n = 300;
        int big = 5000;
        float[] a = new float[n];
        float[] x = new float[big];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextFloat() * 40 - 20;
        }
        for (int i = 0; i < big; i++) {
            x[i] = random.nextFloat() * 80 - 40;
        }
        float cap = 30f;
        try (Backend be = new TornadoBackendProvider().create(new BackendOptions(1, Map.of()))) {
            Kernels k = be.kernels();
            Tensor ta = be.allocate(1, n);
            Tensor copy = be.allocate(1, n);
            Tensor tx = be.allocate(1, big);
            be.upload(a, ta);
            Launcher l = ((TornadoBackend) be).session().launcher();
            for (int round = 0; round < 4; round++) {
                be.upload(x, tx);
                k.group(() -> {
                    k.copyRows(ta, 0, copy, 0, 1);
                    k.softCap(tx, cap);
                });
                float[] got = new float[big];
                be.download(tx, got);
                float[] gotCopy = new float[n];
                be.download(copy, gotCopy);
                assertArrayEquals(a, gotCopy, "round " + round + " copy");
                for (int i = 0; i < big; i++) {
                    float want = (float) (cap * Math.tanh(x[i] / cap));
                    if (Math.abs(got[i] - want) > 1e-4f) {
                        throw new AssertionError("round " + round + " (fused launches " + l.fusedLaunches() + "): softCap["
                                + i + "] = " + got[i] + ", expected " + want);
                    }
                }
            }
            assertTrue(l.fusedLaunches() >= 1, "the recurring group never ran as a fused graph");
        }
    }

    /** rmsNorm and matmul (work-group reductions in local memory) in a fused group agree with single launches. */
    @Test
    void reductionsInAGroupAgreeWithSingleLaunches() {
        Random random = new Random(5);
        int cols = 96;
        int rows = 200;
        float[] x = new float[cols];
        float[] scale = new float[cols];
        float[] w = new float[rows * cols];
        for (int i = 0; i < cols; i++) {
            x[i] = random.nextFloat() * 2 - 1;
            scale[i] = random.nextFloat();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() * 2 - 1;
        }
        float[][] results = new float[2][];
        for (int fuse = 0; fuse < 2; fuse++) {
            try (Backend be = new TornadoBackendProvider().create(new BackendOptions(1, Map.of("fuse", fuse == 1 ? "true" : "false")));
                    java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                Kernels k = be.kernels();
                dev.rg.api.format.WeightFormat f32 = dev.rg.api.format.WeightFormats.f32();
                dev.rg.api.tensor.Weight sw = be.loadWeight(f32.quantize("scale", dev.rg.api.tensor.Shape.of(cols),
                        (r, dst) -> System.arraycopy(scale, 0, dst, 0, cols), arena));
                dev.rg.api.tensor.Weight mw = be.loadWeight(dev.rg.api.format.WeightFormats.all().get("bf16").quantize("w",
                        dev.rg.api.tensor.Shape.of(rows, cols), (r, dst) -> System.arraycopy(w, Math.toIntExact(r * cols), dst, 0, cols), arena));
                Tensor tx = be.allocate(1, cols);
                Tensor normed = be.allocate(1, cols);
                Tensor out = be.allocate(1, rows);
                be.upload(x, tx);
                float[] got = new float[rows];
                for (int round = 0; round < 4; round++) {
                    k.group(() -> {
                        k.rmsNorm(tx, sw, 1e-6f, normed);
                        k.matmul(normed, mw, null, out);
                    });
                    be.download(out, got);
                }
                results[fuse] = got;
                if (fuse == 1) {
                    assertTrue(((TornadoBackend) be).session().launcher().fusedLaunches() >= 1, "no fused graph ran");
                }
            }
        }
        assertArrayEquals(results[0], results[1], 1e-6f);
    }
}
