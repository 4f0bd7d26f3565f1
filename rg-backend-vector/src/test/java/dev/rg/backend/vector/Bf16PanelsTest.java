package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.Kernels;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.Tolerance;
import dev.rg.core.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bf16 matrices in {@link Bf16Panels panels}: the packing keeps every element and zero-pads the last panel; the kernel
 * matches the reference for every row count (decode, batches, prefill chunks) and every remainder of rows, panels and
 * K blocks; and any row of any matmul has the bits of the same row multiplied alone, prefill chunks included. The
 * panel kernel reduces no lanes, so that holds in every JIT tier: this test runs in the module's default JVM, C2
 * warm-up and all.
 */
class Bf16PanelsTest {
    private static final WeightFormat BF16 = WeightFormats.bf16();
    private final Kernels ref = new ReferenceKernels();
    private Arena arena;
    private TestWeights t;

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
        t = new TestWeights(arena, 4242);
    }

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void packingKeepsEveryElementAndPadsWithZeros() {
        try (VectorBackend b = new VectorBackend(new BackendOptions(2, Map.of()))) {
            for (int[] sh : new int[][] {{1, 1}, {31, 7}, {32, 64}, {33, 5}, {97, 300}}) {
                int rows = sh[0];
                int cols = sh[1];
                HostWeight w = t.random("w", BF16, 0.5, rows, cols);
                VectorWeight vw = (VectorWeight) b.loadWeight(w);
                MemorySegment packed = vw.panels();
                assertNotNull(packed, "a bf16 matrix is packed by default");
                assertEquals(Bf16Panels.bytes(rows, cols), packed.byteSize());
                MemorySegment src = w.part(WeightFormat.DATA);
                for (int r = 0; r < Bf16Panels.panels(rows) * Bf16Panels.ROWS; r++) {
                    for (int c = 0; c < cols; c++) {
                        short want = r < rows ? src.get(DenseWeights.I16_LE, 2L * ((long) r * cols + c)) : 0;
                        assertEquals(want, Bf16Panels.get(packed, cols, r, c), rows + "x" + cols + " element (" + r + ", " + c + ")");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void everyRowCountMatchesTheReference(int threads) {
        // rows: less than a panel, one, one and a bit, a partial quad, whole quads and a partial panel; columns: one,
        // fewer than a K block, exactly one, one and a bit, several
        int[][] shapes = {{1, 1}, {31, 7}, {32, Bf16PanelDot.K_BLOCK}, {33, Bf16PanelDot.K_BLOCK + 1}, {127, 300}, {128, 513},
            {290, 1000}};
        try (VectorBackend b = new VectorBackend(new BackendOptions(threads, Map.of("chunk-kb", "0")))) {
            for (int[] sh : shapes) {
                int out = sh[0];
                int in = sh[1];
                HostWeight w = t.random("w", BF16, 1.0 / Math.sqrt(in), out, in);
                VectorWeight vw = (VectorWeight) b.loadWeight(w);
                for (int n : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 11, 16, 17, 33}) {
                    HostTensor x = t.tensor(n, in, 1.0);
                    HostTensor got = new HostTensor(n, out);
                    HostTensor want = new HostTensor(n, out);
                    b.kernels().matmul(x, vw, null, got);
                    ref.matmul(x, w, null, want);
                    CheckResult r = Tolerance.KERNEL.compare("bf16 panels " + n + "x" + in + "->" + out + ", " + threads + " threads",
                            got.data(), want.data(), n * out);
                    assertTrue(r.passed(), r.toString());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void everyRowOfAnyMatmulHasTheBitsOfTheRowAlone(int threads) {
        try (VectorBackend b = new VectorBackend(new BackendOptions(threads, Map.of("chunk-kb", "0")))) {
            for (int[] sh : new int[][] {{37, 600}, {300, 131}}) {
                int out = sh[0];
                int in = sh[1];
                VectorWeight vw = (VectorWeight) b.loadWeight(t.random("w", BF16, 1.0 / Math.sqrt(in), out, in));
                int most = 40;
                HostTensor x = t.tensor(most, in, 1.0);
                float[][] alone = new float[most][];
                for (int i = 0; i < most; i++) {
                    HostTensor o = new HostTensor(1, out);
                    b.kernels().matmul(new HostTensor(1, in, Arrays.copyOfRange(x.data(), i * in, (i + 1) * in)), vw, null, o);
                    alone[i] = o.data();
                }
                for (int n : new int[] {2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 29, 40}) {
                    int first = (n * 7) % (most - n + 1); // a window of the rows, so that each row sits at several positions
                    HostTensor o = new HostTensor(n, out);
                    b.kernels().matmul(new HostTensor(n, in, Arrays.copyOfRange(x.data(), first * in, (first + n) * in)), vw, null, o);
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < out; j++) {
                            float want = alone[first + i][j];
                            float got = o.data()[i * out + j];
                            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got)) {
                                assertEquals(want, got, 0f, in + "->" + out + ", row " + i + " of " + n + ", output " + j + ", "
                                        + threads + " threads: differs from the row alone");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void theRowsLayoutKeepsNoPanelsAndAWrongLayoutIsNamed() {
        HostWeight w = t.random("w", BF16, 0.1, 40, 70);
        try (VectorBackend rows = new VectorBackend(new BackendOptions(1, Map.of("bf16-layout", "rows")))) {
            VectorWeight vw = (VectorWeight) rows.loadWeight(w);
            assertNull(vw.panels());
            assertTrue(vw.dot() instanceof Bf16RowDot, vw.dot().getClass().getName());
        }
        // vectors (norm scales) and other ranks stay as they are
        try (VectorBackend b = new VectorBackend(new BackendOptions(1, Map.of()))) {
            assertNull(((VectorWeight) b.loadWeight(t.random("scale", BF16, 0.1, 70))).panels());
            assertNull(((VectorWeight) b.loadWeight(t.random("gates", BF16, 0.1, 2, 8, 8))).panels());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new VectorBackend(new BackendOptions(1, Map.of("bf16-layout", "columns"))));
        assertEquals("vector backend setting bf16-layout=columns is not one of: auto, panels, rows", e.getMessage());
    }
}
