package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.Tolerance;
import dev.rg.core.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Panels live outside the JVM's direct-memory limit (which defaults to the maximum heap, and refused a 2B model's 5.4
 * GB of panels on a 16 GB machine); {@code bf16-layout=auto} packs a bf16 matrix into panels only while the copy fits in the memory available (so a model
 * that fits once does not get the JVM killed for its second copy); the matrices refused stay row-major, compute the
 * same products, and the backend warns once, naming how many and why.
 */
class PanelBudgetTest {
    private static final WeightFormat BF16 = WeightFormats.bf16();
    private static final long MB = 1L << 20;

    @Test
    void panelsAreNotCountedAgainstTheDirectMemoryLimit() {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        try (Arena arena = Arena.ofShared()) {
            HostWeight w = new TestWeights(arena, 31).random("w", BF16, 0.1, 512, 2048);
            VectorWeight vw;
            try (VectorBackend b = new VectorBackend(new BackendOptions(1, Map.of("bf16-layout", "panels")))) {
                long before = direct.getMemoryUsed();
                vw = (VectorWeight) b.loadWeight(w);
                long grew = direct.getMemoryUsed() - before;
                assertEquals(Bf16Panels.bytes(512, 2048), vw.panels().byteSize());
                // an automatic arena counted all 2 MB here (and failed once the total passed -XX:MaxDirectMemorySize)
                assertTrue(grew < vw.panels().byteSize(), "direct memory grew by " + grew + " bytes for the panels");
                assertTrue(vw.panels().scope().isAlive());
            }
            // freed when the backend closes, not at some later garbage collection
            assertFalse(vw.panels().scope().isAlive(), "the panels outlived their backend");
        }
    }

    @Test
    void admitsWhileTheCopyFitsBesideTheHeapHeadroomAndTheMargin() {
        long[] available = {1000 * MB};
        PanelBudget budget = new PanelBudget(() -> available[0], () -> 300 * MB);
        assertTrue(budget.admit(1000 * MB - 300 * MB - PanelBudget.MARGIN_BYTES), "exactly what is left");
        assertTrue(budget.warning().isEmpty());
        assertFalse(budget.admit(1000 * MB - 300 * MB - PanelBudget.MARGIN_BYTES + 1), "one byte more");
        available[0] = 400 * MB; // the first copy took its memory
        assertFalse(budget.admit(10 * MB));
        String w = budget.warning().orElseThrow();
        assertTrue(w.startsWith("vector backend: 2 of 3 bf16 matrices (0.2 GB) stay row-major"), w);
        assertTrue(w.contains("1.0 GB when the first was refused") && w.contains("bf16-layout=rows"), w);

        PanelBudget unknown = new PanelBudget(() -> -1, () -> 300 * MB); // no /proc/meminfo: packs every matrix
        assertTrue(unknown.admit(Long.MAX_VALUE / 4));
        assertTrue(unknown.warning().isEmpty());
    }

    @Test
    void refusedMatricesStayRowMajorWithTheSameProductsAndOneWarning() {
        try (Arena arena = Arena.ofShared()) {
            TestWeights t = new TestWeights(arena, 777);
            HostWeight first = t.random("first", BF16, 0.05, 300, 200);
            HostWeight second = t.random("second", BF16, 0.05, 70, 130);
            long firstBytes = Bf16Panels.bytes(300, 200);
            long[] available = {firstBytes + PanelBudget.MARGIN_BYTES};
            // room for the first copy only; the second finds what the first left
            PanelBudget budget = new PanelBudget(() -> available[0], () -> 0);
            try (VectorBackend b = new VectorBackend(new BackendOptions(2, Map.of("bf16-layout", "auto")), budget)) {
                assertTrue(b.warnings().stream().noneMatch(w -> w.contains("row-major")));
                VectorWeight packed = (VectorWeight) b.loadWeight(first);
                available[0] -= firstBytes;
                VectorWeight rows = (VectorWeight) b.loadWeight(second);
                assertNotNull(packed.panels());
                assertNull(rows.panels());
                assertTrue(rows.dot() instanceof Bf16RowDot, rows.dot().getClass().getName());
                for (HostWeight w : List.of(first, second)) {
                    VectorWeight vw = w == first ? packed : rows;
                    int in = (int) w.shape().lastDim();
                    int out = (int) w.shape().rows();
                    for (int n : new int[] {1, 5, 16}) {
                        HostTensor x = t.tensor(n, in, 1.0);
                        HostTensor got = new HostTensor(n, out);
                        HostTensor want = new HostTensor(n, out);
                        b.kernels().matmul(x, vw, null, got);
                        new ReferenceKernels().matmul(x, w, null, want);
                        CheckResult r = Tolerance.KERNEL.compare(w.name() + " " + n + " rows", got.data(), want.data(), n * out);
                        assertTrue(r.passed(), r.toString());
                    }
                }
                List<String> warnings = b.warnings().stream().filter(w -> w.contains("row-major")).toList();
                assertEquals(1, warnings.size(), warnings.toString());
                assertTrue(warnings.getFirst().startsWith("vector backend: 1 of 2 bf16 matrices"), warnings.getFirst());
            }
            // an explicit layout overrides the budget both ways
            PanelBudget none = new PanelBudget(() -> 0, () -> 0);
            try (VectorBackend b = new VectorBackend(new BackendOptions(1, Map.of("bf16-layout", "panels")), none)) {
                assertNotNull(((VectorWeight) b.loadWeight(second)).panels());
                assertTrue(b.warnings().stream().noneMatch(w -> w.contains("row-major")));
            }
            try (VectorBackend b = new VectorBackend(new BackendOptions(1, Map.of("bf16-layout", "rows")), none)) {
                assertNull(((VectorWeight) b.loadWeight(second)).panels());
                assertTrue(b.warnings().stream().noneMatch(w -> w.contains("row-major")));
            }
        }
    }
}
