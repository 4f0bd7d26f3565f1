package dev.rg.core.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Op;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.reference.ReferenceKernels;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A backend whose kernels do not implement an op (they inherit {@link dev.rg.api.backend.Kernels}' default body)
 * gets that op routed to the reference by {@link FallbackKernels}, in the forward pass and in the state
 * operations ({@link ModelState#reset}, {@link ModelState#copySequence}) alike, and reported as a fallback.
 */
class FallbackRoutingTest {
    private static final Set<Op> IMPLEMENTED = EnumSet.of(Op.MATMUL, Op.RMS_NORM, Op.ADD, Op.CONV1D);

    @Test
    void theOpsAKernelsClassDoesNotImplementAreFallbacks() {
        try (Backend b = new PartialBackendProvider().create(new BackendOptions(1, Map.of()))) {
            assertEquals(IMPLEMENTED, Op.implementedBy(b.kernels()));
            assertEquals(EnumSet.complementOf(EnumSet.copyOf(IMPLEMENTED)), FallbackKernels.fallbackOps(b),
                    "declared in the capabilities but not implemented: routed to the reference");
            assertInstanceOf(FallbackKernels.class, FallbackKernels.forBackend(b, Map.of(), Set.of()));
            Tensor x = b.allocate(2, 5);
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> b.kernels().topK(x, 2, new int[4], new float[4]));
            assertTrue(e.getMessage().startsWith("topK is not implemented"), e.getMessage());
        }
        assertEquals(IMPLEMENTED, Capabilities.implementedBy(PartialBackendProvider.PartialKernels.class, Set.of("f32")).ops(),
                "what an honest provider declares");
        assertEquals(Set.of(), Op.implementedBy(new dev.rg.api.backend.Kernels() {}), "nothing overridden, nothing implemented");
        assertEquals(EnumSet.allOf(Op.class), Op.implementedBy(new ReferenceKernels()), "the reference implements every op");
    }

    @Test
    void unimplementedOpsRunOnTheReference() {
        SplittableRandom random = new SplittableRandom(11);
        try (Backend b = new PartialBackendProvider().create(new BackendOptions(1, Map.of()))) {
            FallbackKernels k = new FallbackKernels(b, Map.of(), Set.of());
            int rows = 3;
            int cols = 17;
            float[] values = new float[rows * cols];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            Tensor x = b.allocate(rows, cols);
            b.upload(values, x);
            int[] ids = new int[rows * 4];
            float[] got = new float[rows * 4];
            k.topK(x, 4, ids, got);
            int[] wantIds = new int[rows * 4];
            float[] want = new float[rows * 4];
            new ReferenceKernels().topK(new HostTensor(rows, cols, values.clone()), 4, wantIds, want);
            assertArrayEquals(wantIds, ids);
            assertArrayEquals(want, got);
            k.fill(x, -0.5f);
            float[] filled = new float[rows * cols];
            b.download(x, filled);
            for (float f : filled) {
                assertEquals(-0.5f, f);
            }
        }
    }

    @Test
    void aModelRunsOnThePartialBackendExactlyAsOnTheReference() {
        PartialBackendProvider.NATIVE_CALLS.set(0);
        int[] prompt = {2, 17, 300, 41, 9};
        try (Model partial = Model.load(TestFiles.modelFixture("tiny-f32"), LoadOptions.defaults().withBackend("partial"));
                Model reference = Model.load(TestFiles.modelFixture("tiny-f32"), LoadOptions.defaults().withBackend("reference"));
                ModelState sp = partial.newState(2);
                ModelState sr = reference.newState(2)) {
            assertInstanceOf(FallbackKernels.class, partial.griffin().kernels());
            int vocab = partial.config().vocabSize();
            float[] lp = new float[2 * vocab];
            float[] lr = new float[2 * vocab];
            int[] ids = new int[2 * prompt.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = prompt[i % prompt.length] + i / prompt.length;
            }
            partial.backend().download(partial.griffin().forward(sp, ids, prompt.length, Outputs.LAST), lp);
            reference.backend().download(reference.griffin().forward(sr, ids, prompt.length, Outputs.LAST), lr);
            assertArrayEquals(lr, lp, "the same reference arithmetic, natively or through the fallback");
            assertTrue(PartialBackendProvider.NATIVE_CALLS.get() > 0, "the implemented ops ran natively");

            // the state operations use the model's (fallback-wrapped) kernels: fill and copyRows are not implemented
            sp.copySequence(sp, 1, 0);
            sr.copySequence(sr, 1, 0);
            partial.backend().download(partial.griffin().forward(sp, new int[] {7, 8}, 1, Outputs.LAST), lp);
            reference.backend().download(reference.griffin().forward(sr, new int[] {7, 8}, 1, Outputs.LAST), lr);
            assertArrayEquals(lr, lp, "decode after copySequence");
            sp.reset();
            for (Tensor t : sp.all()) {
                float[] v = new float[(int) t.size()];
                partial.backend().download(t, v);
                for (float f : v) {
                    assertEquals(0f, f, "reset zeroes the state");
                }
            }
            assertEquals(0, sp.position(0));
        }
    }
}
