package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.Tolerance;
import dev.rg.core.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * bf16 (with {@code bf16-layout=rows}; by default bf16 matrices are repacked whole at load, see {@link Bf16Panels}) and
 * f32 rows that do not start on a cache line (a checkpoint's tensors, mapped in place) are packed into an aligned
 * panel per K block for the prefill path. Packing moves bytes only: the results are bit for bit those of the same
 * weights on aligned rows, and match the reference. Run with C1 only, like {@link BatchRowInvarianceTest} (see the
 * module's pom): while C2 compiles some tiles and not others, a row can differ in its last bit between two calls.
 */
class PrefillPanelTest {
    @ParameterizedTest
    @CsvSource({"bf16, 1", "bf16, 2", "f32, 1", "f32, 2"})
    void misalignedRowsGiveTheBitsOfAlignedOnes(String format, int threads) {
        WeightFormat f = WeightFormats.byName(format);
        int out = 23;
        int k = 2560; // several K blocks; rows a whole number of cache lines, so the aligned copy is read in place
        int n = RowDot.BATCH_MAX + 21; // the prefill path, with a row block of fewer than four
        try (Arena arena = Arena.ofShared();
                VectorBackend b = new VectorBackend(new BackendOptions(threads, Map.of("chunk-kb", "0", "bf16-layout", "rows")))) {
            TestWeights t = new TestWeights(arena, 7);
            HostWeight aligned = t.random("w", f, 0.02, out, k);
            MemorySegment bytes = aligned.part(dev.rg.api.format.WeightFormat.DATA);
            MemorySegment shifted = arena.allocate(bytes.byteSize() + 64, 64).asSlice(16, bytes.byteSize());
            shifted.copyFrom(bytes);
            HostWeight misaligned = HostWeight.dense("w", Shape.matrix(out, k), f, shifted);
            long rowBytes = bytes.byteSize() / out;
            assertTrue(RowDot.aligned(bytes, rowBytes));
            assertFalse(RowDot.aligned(shifted, rowBytes));

            HostTensor x = t.tensor(n, k, 1.0);
            HostTensor inPlace = new HostTensor(n, out);
            HostTensor packed = new HostTensor(n, out);
            HostTensor want = new HostTensor(n, out);
            b.kernels().matmul(x, b.loadWeight(aligned), null, inPlace);
            b.kernels().matmul(x, b.loadWeight(misaligned), null, packed);
            new ReferenceKernels().matmul(x, aligned, null, want);
            assertArrayEquals(inPlace.data(), packed.data(), "packing changes no bits");
            CheckResult r = Tolerance.KERNEL.compare("packed " + format + " prefill", packed.data(), want.data(), want.data().length);
            assertTrue(r.passed(), r.toString());
        }
    }
}
