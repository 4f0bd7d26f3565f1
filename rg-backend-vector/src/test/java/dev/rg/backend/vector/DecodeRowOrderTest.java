package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.backend.Kernels;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Weight;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.Tolerance;
import dev.rg.core.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Decode's and batches' row order ({@link RowDot#spread}): a unit's rows read as four streams, a quarter apart. With the default
 * chunking a small matrix is one unit per thread, so these shapes put several rows in each stream and leave 0 to 3
 * rows over. Every format must match the reference kernels. (That the dense formats keep their bits is
 * {@link BatchRowInvarianceTest#spreadRowsHaveTheBitsOfAdjacentTiles}, which runs in one JIT tier.)
 */
class DecodeRowOrderTest {
    private static final List<WeightFormat> DENSE = List.of(WeightFormats.f32(), WeightFormats.bf16(), WeightFormats.f16());
    private static final List<WeightFormat> QUANTIZED = List.of(WeightFormats.byName("int8"), WeightFormats.byName("nf4"),
            WeightFormats.byName("fp4"));
    /** Rows: quarters of 9, 16 and 32 rows with 1, 0 and 3 left over; at two threads, each thread's unit split again. */
    private static final int[] OUTS = {37, 64, 131};
    private final Kernels ref = new ReferenceKernels();
    private Arena arena;
    private TestWeights t;

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
        t = new TestWeights(arena, 907);
    }

    @AfterEach
    void close() {
        arena.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void spreadRowsMatchTheReferenceInDecodeAndBatches(int threads) {
        try (VectorBackend b = new VectorBackend(new BackendOptions(threads, Map.of()))) {
            for (WeightFormat f : java.util.stream.Stream.concat(DENSE.stream(), QUANTIZED.stream()).toList()) {
                // 2100 (dense): several bf16 K blocks and a scalar tail; 320 and 2112 (quantised): one and three K blocks
                for (int in : DENSE.contains(f) ? new int[] {67, 2100} : new int[] {320, 2112}) {
                    for (int out : OUTS) {
                        HostWeight w = t.random("w", f, 1.0 / Math.sqrt(in), out, in);
                        Weight vw = b.loadWeight(w);
                        for (int n : new int[] {1, 2, 5, 8}) {
                            HostTensor x = t.tensor(n, in, 1.0);
                            HostTensor got = new HostTensor(n, out);
                            HostTensor want = new HostTensor(n, out);
                            b.kernels().matmul(x, vw, null, got);
                            ref.matmul(x, w, null, want);
                            CheckResult r = Tolerance.KERNEL.compare(f.name() + " " + n + "x" + in + "->" + out + ", " + threads
                                    + " threads", got.data(), want.data(), n * out);
                            assertTrue(r.passed(), r.toString());
                        }
                    }
                }
            }
        }
    }
}
