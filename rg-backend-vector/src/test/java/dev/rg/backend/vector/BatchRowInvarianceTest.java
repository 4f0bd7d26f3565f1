package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.api.backend.BackendOptions;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Batched decode is row-invariant for the dense formats: every row of a 2..{@link RowDot#BATCH_MAX}-row matmul is
 * bit-for-bit the same as that row multiplied alone, whatever its position in the batch, the batch size, the thread
 * count or the work split. The server's continuous batching relies on it: a sequence's greedy text must not depend
 * on who else is decoding in the same step. It covers units of one tile (adjacent weight rows) and of many (rows a
 * quarter of the unit apart, {@link RowDot#spread}). bf16 runs in both layouts: {@link Bf16Panels panels} (the default;
 * {@link Bf16PanelsTest} also covers prefill-sized chunks there) and rows ({@code bf16-layout=rows}). (Prefill chunks, more than {@code BATCH_MAX} rows, take shorter K blocks and are only within the kernel tolerance of
 * decode rows; the 4-bit formats' batched path dequantises first and is only within tolerance too. int8 batches read
 * the weights in place with decode's arithmetic: {@link #int8BatchRowsEqualTheRowAlone}.)
 */
class BatchRowInvarianceTest {
    private static final List<WeightFormat> FORMATS = List.of(WeightFormats.f32(), WeightFormats.bf16(), WeightFormats.f16());
    private Arena arena;
    private TestWeights t;

    /** Every dense format with bf16 in panels (the default); with bf16 in rows, bf16 alone (the others do not change). */
    private static List<WeightFormat> formats(String bf16Layout) {
        return bf16Layout.equals("rows") ? List.of(WeightFormats.bf16()) : FORMATS;
    }

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
        t = new TestWeights(arena, 1301);
    }

    @AfterEach
    void close() {
        arena.close();
    }

    @ParameterizedTest
    @CsvSource({"1, panels", "2, panels", "3, panels", "1, rows", "2, rows", "3, rows"})
    void everyBatchRowEqualsTheRowAlone(int threads, String bf16Layout) {
        // inputs: whole vectors, a scalar tail, rows longer than a prefill K block (2100) and than a batch K block (2700,
        // with a tail); outputs: every remainder mod 4 and mod 2
        int[][] shapes = {{64, 8}, {67, 5}, {288, 23}, {2100, 13}, {520, 38}, {2700, 9}};
        try (VectorBackend b = new VectorBackend(new BackendOptions(threads, Map.of("chunk-kb", "0", "bf16-layout", bf16Layout)))) {
            for (WeightFormat f : formats(bf16Layout)) {
                for (int[] sh : shapes) {
                    int in = sh[0];
                    int out = sh[1];
                    HostWeight w = t.random("w", f, 1.0 / Math.sqrt(in), out, in);
                    Weight vw = b.loadWeight(w);
                    HostTensor x = t.tensor(RowDot.BATCH_MAX, in, 1.0);
                    float[][] alone = new float[RowDot.BATCH_MAX][];
                    for (int i = 0; i < RowDot.BATCH_MAX; i++) {
                        HostTensor row = new HostTensor(1, in, java.util.Arrays.copyOfRange(x.data(), i * in, (i + 1) * in));
                        HostTensor o = new HostTensor(1, out);
                        b.kernels().matmul(row, vw, null, o);
                        alone[i] = o.data();
                    }
                    for (int n = 2; n <= RowDot.BATCH_MAX; n++) {
                        // the batch's rows are a window of the 16 rows, so that each row sits at several positions
                        int first = (n * 5) % (RowDot.BATCH_MAX - n + 1);
                        HostTensor xs = new HostTensor(n, in, java.util.Arrays.copyOfRange(x.data(), first * in, (first + n) * in));
                        HostTensor o = new HostTensor(n, out);
                        b.kernels().matmul(xs, vw, null, o);
                        for (int i = 0; i < n; i++) {
                            for (int j = 0; j < out; j++) {
                                float want = alone[first + i][j];
                                float got = o.data()[i * out + j];
                                if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got)) {
                                    assertEquals(want, got, 0f, f.name() + " (bf16 " + bf16Layout + ") " + in + "->" + out + ", row "
                                            + i + " of " + n + ", output " + j + ", " + threads + " threads: batched differs from alone");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Decode and batches read a unit's rows a quarter apart ({@link RowDot#spread}); with the default chunking these
     * small matrices are one unit per thread, several rows per stream (the test above splits into units of one tile).
     * Each output must have exactly the bits of the same row in a four-row batch, which takes the 4 x 4 tile where
     * decode takes the 1 x 4 one: the row order changes which outputs a tile computes together, never how an output
     * is summed.
     */
    @ParameterizedTest
    @CsvSource({"1, panels", "2, panels", "1, rows", "2, rows"})
    void spreadRowsHaveTheBitsOfAdjacentTiles(int threads, String bf16Layout) {
        try (VectorBackend b = new VectorBackend(new BackendOptions(threads, Map.of("bf16-layout", bf16Layout)))) {
            for (WeightFormat f : formats(bf16Layout)) {
                for (int in : new int[] {67, 2100}) {
                    for (int out : new int[] {37, 64, 131}) {
                        HostWeight w = t.random("w", f, 1.0 / Math.sqrt(in), out, in);
                        Weight vw = b.loadWeight(w);
                        HostTensor rows = t.tensor(4, in, 1.0);
                        HostTensor batched = new HostTensor(4, out);
                        b.kernels().matmul(rows, vw, null, batched);
                        for (int i = 0; i < 4; i++) {
                            HostTensor row = new HostTensor(1, in, java.util.Arrays.copyOfRange(rows.data(), i * in, (i + 1) * in));
                            HostTensor alone = new HostTensor(1, out);
                            b.kernels().matmul(row, vw, null, alone);
                            for (int j = 0; j < out; j++) {
                                float want = batched.data()[i * out + j];
                                float got = alone.data()[j];
                                if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got)) {
                                    assertEquals(want, got, 0f, f.name() + " " + in + "->" + out + ", row " + i + ", output " + j
                                            + ", " + threads + " threads: decoded alone differs from the batched row");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * int8 batches of up to {@link Int8RowDot#DIRECT_ROWS} rows (every batch) read the weights in place with decode's
     * arithmetic, so their rows too are bit for bit the rows decoded alone. Shapes: one unit of several spread rows plus leftovers, whole blocks and a partial last
     * block, at one and two threads.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void int8BatchRowsEqualTheRowAlone(int threads) {
        WeightFormat int8 = WeightFormats.byName("int8");
        try (VectorBackend b = new VectorBackend(new BackendOptions(threads, Map.of()))) {
            for (int[] sh : new int[][] {{320, 37}, {2112, 131}, {2600, 9}}) {
                int in = sh[0];
                int out = sh[1];
                HostWeight w = t.random("w", int8, 1.0 / Math.sqrt(in), out, in);
                Weight vw = b.loadWeight(w);
                HostTensor x = t.tensor(Int8RowDot.DIRECT_ROWS, in, 1.0);
                for (int n = 2; n <= Int8RowDot.DIRECT_ROWS; n++) {
                    HostTensor xs = new HostTensor(n, in, java.util.Arrays.copyOf(x.data(), n * in));
                    HostTensor batched = new HostTensor(n, out);
                    b.kernels().matmul(xs, vw, null, batched);
                    for (int i = 0; i < n; i++) {
                        HostTensor row = new HostTensor(1, in, java.util.Arrays.copyOfRange(x.data(), i * in, (i + 1) * in));
                        HostTensor alone = new HostTensor(1, out);
                        b.kernels().matmul(row, vw, null, alone);
                        for (int j = 0; j < out; j++) {
                            float want = alone.data()[j];
                            float got = batched.data()[i * out + j];
                            if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got)) {
                                assertEquals(want, got, 0f, "int8 " + in + "->" + out + ", row " + i + " of " + n + ", output " + j
                                        + ", " + threads + " threads: batched differs from alone");
                            }
                        }
                    }
                }
            }
        }
    }
}
