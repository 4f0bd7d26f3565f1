package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.core.model.SoftplusLambda;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
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
 * Vector tails (sizes around multiples of the vector length and the register tiles) and work splits over 1, 2
 * and 3 threads, against the reference kernels. {@code chunk-kb=0} makes every parallel kernel split into as
 * many units as it can, so that small shapes still run on several threads with ragged last units.
 */
class KernelSplitsTest {
    private static final Tolerance TOL = Tolerance.KERNEL;
    private static final List<WeightFormat> FORMATS = List.of(WeightFormats.f32(), WeightFormats.bf16(), WeightFormats.f16());
    /** The quantised formats (rg-quant is a dependency of the backend, so they are always discovered). */
    private static final List<WeightFormat> QUANTIZED = List.of(WeightFormats.byName("int8"), WeightFormats.byName("nf4"),
            WeightFormats.byName("nf4-dq"), WeightFormats.byName("fp4"), WeightFormats.byName("fp4-dq"));
    /** Every format a matmul or an embedding runs. */
    private static final List<WeightFormat> MATMUL_FORMATS = java.util.stream.Stream.concat(FORMATS.stream(),
            QUANTIZED.stream()).toList();
    private final Kernels ref = new ReferenceKernels();
    private Arena arena;
    private TestWeights t;

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
        t = new TestWeights(arena, 42);
    }

    @AfterEach
    void close() {
        arena.close();
    }

    private static VectorBackend backend(int threads) {
        return new VectorBackend(new BackendOptions(threads, Map.of("chunk-kb", "0")));
    }

    private static void check(String what, float[] got, float[] want) {
        CheckResult r = TOL.compare(what, got, want, want.length);
        assertTrue(r.passed(), r.toString());
    }

    private static HostTensor copy(HostTensor a) {
        return new HostTensor(a.rows(), a.cols(), a.data().clone());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void matmulTailsAndSplits(int threads) {
        int[] ins = {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 67, 130, 257};
        int[] outs = {1, 3, 4, 5, 7, 8, 13, 37};
        int[] ns = {1, 2, 3, 4, 5, 8, 9};
        try (VectorBackend b = backend(threads)) {
            for (WeightFormat f : MATMUL_FORMATS) {
                for (int in : ins) {
                    for (int out : outs) {
                        HostWeight w = t.random("w", f, 1.0 / Math.sqrt(in), out, in);
                        HostWeight bias = t.random("b", WeightFormats.bf16(), 0.1, out);
                        Weight vw = b.loadWeight(w);
                        Weight vb = b.loadWeight(bias);
                        for (int n : ns) {
                            if (n > 3 && (in % 16 != 1 || out > 13)) {
                                continue; // keep the product of sizes reasonable: batches on some shapes only
                            }
                            HostTensor x = t.tensor(n, in, 1.0);
                            HostTensor got = new HostTensor(n, out);
                            HostTensor want = new HostTensor(n, out);
                            b.kernels().matmul(x, vw, vb, got);
                            ref.matmul(x, w, bias, want);
                            check("matmul " + f.name() + " " + n + "x" + in + "->" + out + " threads " + threads, got.data(),
                                    want.data());
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void prefillSizedMatmulSplits(int threads) {
        try (VectorBackend b = backend(threads)) {
            // 2100 columns: several K blocks of the 4 x 4 prefill path (1024 elements each, more than RowDot.BATCH_MAX
            // rows) plus a scalar tail; 9 rows: the batched-decode path (weight rows outermost, full rows) on long rows
            for (WeightFormat f : MATMUL_FORMATS) {
                HostWeight w = t.random("w", f, 0.02, 23, 2100);
                Weight vw = b.loadWeight(w);
                for (int n : new int[] {9, RowDot.BATCH_MAX + 3}) {
                    HostTensor x = t.tensor(n, 2100, 1.0);
                    HostTensor got = new HostTensor(n, 23);
                    HostTensor want = new HostTensor(n, 23);
                    b.kernels().matmul(x, vw, null, got);
                    ref.matmul(x, w, null, want);
                    check("matmul " + n + "x2100->23 " + f.name(), got.data(), want.data());
                }
            }
            for (WeightFormat f : MATMUL_FORMATS) {
                HostWeight w = t.random("w", f, 0.05, 203, 288);
                Weight vw = b.loadWeight(w);
                HostTensor x = t.tensor(38, 288, 1.0);
                HostTensor got = new HostTensor(38, 203);
                HostTensor want = new HostTensor(38, 203);
                b.kernels().matmul(x, vw, null, got);
                ref.matmul(x, w, null, want);
                check("matmul 38x288->203 " + f.name(), got.data(), want.data());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void embedAndNormTails(int threads) {
        try (VectorBackend b = backend(threads)) {
            for (WeightFormat f : FORMATS) {
                for (int h : new int[] {1, 7, 16, 17, 33, 83}) {
                    HostWeight table = t.random("table", f, 1.0, 11, h);
                    int[] ids = {10, 0, 3, 3};
                    HostTensor got = new HostTensor(ids.length, h);
                    HostTensor want = new HostTensor(ids.length, h);
                    b.kernels().embed(ids, b.loadWeight(table), 6.9375f, got);
                    ref.embed(ids, table, 6.9375f, want);
                    check("embed " + f.name() + " h=" + h, got.data(), want.data());
                    HostWeight scale = t.random("norm", f, 0.3, h);
                    HostTensor x = t.tensor(3, h, 4.0);
                    HostTensor gn = new HostTensor(3, h);
                    HostTensor wn = new HostTensor(3, h);
                    b.kernels().rmsNorm(x, b.loadWeight(scale), 1e-6f, gn);
                    ref.rmsNorm(x, scale, 1e-6f, wn);
                    check("rmsNorm " + f.name() + " h=" + h, gn.data(), wn.data());
                }
            }
        }
    }

    /**
     * The quantised kernels on the shapes they special-case: int8 rows with a partial last 32-block; 4-bit rows of
     * whole 64-blocks (the vectorised kernel), rows whose blocks cross row ends (the general kernel), K blocks of the
     * batched path (2112 = 2 x 1024 + 64); decode (1 row) and batches of every remainder mod 4, out rows of every
     * remainder mod 4 (the 4-row tiles and the single-row tails), on 1-3 threads with ragged units.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void quantizedMatmulShapes(int threads) {
        int[] ins = {32, 48, 64, 96, 128, 160, 192, 320, 2112};
        int[] outs = {1, 4, 5, 7, 13, 37};
        int[] ns = {1, 2, 3, 4, 5, 9};
        try (VectorBackend b = backend(threads)) {
            for (WeightFormat f : QUANTIZED) {
                for (int in : ins) {
                    for (int out : outs) {
                        HostWeight w = t.random("w", f, 1.0 / Math.sqrt(in), out, in);
                        Weight vw = b.loadWeight(w);
                        for (int n : ns) {
                            HostTensor x = t.tensor(n, in, 1.0);
                            HostTensor got = new HostTensor(n, out);
                            HostTensor want = new HostTensor(n, out);
                            b.kernels().matmul(x, vw, null, got);
                            ref.matmul(x, w, null, want);
                            check("matmul " + f.name() + " " + n + "x" + in + "->" + out + " threads " + threads, got.data(),
                                    want.data());
                        }
                    }
                }
                for (int h : new int[] {1, 7, 33, 64, 96, 130, 256}) {
                    HostWeight table = t.random("table", f, 1.0, 11, h);
                    int[] ids = {10, 0, 3, 3, 7};
                    HostTensor got = new HostTensor(ids.length, h);
                    HostTensor want = new HostTensor(ids.length, h);
                    b.kernels().embed(ids, b.loadWeight(table), 6.9375f, got);
                    ref.embed(ids, table, 6.9375f, want);
                    assertArrayEquals(want.data(), got.data(), "embed " + f.name() + " h=" + h + " dequantises exactly");
                }
            }
        }
    }

    /** The 4-bit kernels decode every code of both code books, in both nibbles, with 64-blocks of distinct absmax. */
    @ParameterizedTest
    @ValueSource(strings = {"nf4", "fp4"})
    void everyFourBitCodeInBothNibbles(String format) {
        WeightFormat f = WeightFormats.byName(format);
        int rows = 9;
        int cols = 256;
        float[] v = new float[rows * cols];
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        for (int i = 0; i < v.length; i++) {
            // block b spans a distinct magnitude; values sweep the whole range so every code appears
            double scale = 0.01 * (1 + (i / 64) % 7);
            v[i] = (float) (scale * (2 * r.nextDouble() - 1));
        }
        try (VectorBackend b = backend(2)) {
            HostWeight w = t.weight("codes", f, v, rows, cols);
            Weight vw = b.loadWeight(w);
            for (int n : new int[] {1, 4}) {
                HostTensor x = t.tensor(n, cols, 1.0);
                HostTensor got = new HostTensor(n, rows);
                HostTensor want = new HostTensor(n, rows);
                b.kernels().matmul(x, vw, null, got);
                ref.matmul(x, w, null, want);
                check(format + " codes n=" + n, got.data(), want.data());
            }
            // one-hot activations read single weights back: exact dequantisation of every element
            for (int c = 0; c < cols; c += 37) {
                float[] one = new float[cols];
                one[c] = 1f;
                HostTensor got = new HostTensor(1, rows);
                HostTensor want = new HostTensor(1, rows);
                b.kernels().matmul(new HostTensor(1, cols, one), vw, null, got);
                ref.matmul(new HostTensor(1, cols, one), w, null, want);
                assertArrayEquals(want.data(), got.data(), format + " column " + c);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void elementwiseTails(int threads) {
        try (VectorBackend b = backend(threads)) {
            for (int n : new int[] {1, 15, 16, 17, 47, 100}) {
                HostTensor a = t.tensor(1, n, 3.0);
                HostTensor c = t.tensor(1, n, 3.0);
                HostTensor got = new HostTensor(1, n);
                HostTensor want = new HostTensor(1, n);
                b.kernels().gelu(a, got);
                ref.gelu(a, want);
                check("gelu " + n, got.data(), want.data());
                b.kernels().geluMul(a, c, got);
                ref.geluMul(a, c, want);
                check("geluMul " + n, got.data(), want.data());
                HostTensor capped = t.tensor(1, n, 60.0);
                HostTensor capRef = copy(capped);
                b.kernels().softCap(capped, 30f);
                ref.softCap(capRef, 30f);
                check("softCap " + n, capped.data(), capRef.data());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void conv1dWidths(int threads) {
        try (VectorBackend b = backend(threads)) {
            for (int k : new int[] {1, 2, 4, 5}) {
                for (int c : new int[] {5, 16, 37}) {
                    HostWeight w = t.random("conv", WeightFormats.bf16(), 0.5, c, 1, k);
                    HostWeight bias = t.random("bias", WeightFormats.f32(), 0.1, c);
                    Weight vw = b.loadWeight(w);
                    Weight vb = b.loadWeight(bias);
                    HostTensor st = new HostTensor(2, (k - 1) * c);
                    HostTensor sr = new HostTensor(2, (k - 1) * c);
                    int[][] calls = {{0, 3, 3}, {3, 6, 1}, {4, 7, 6}, {10, 13, 1}};
                    for (int[] call : calls) {
                        SeqBatch seq = new SeqBatch(2, call[2], new int[] {call[0], call[1]});
                        HostTensor x = t.tensor(2 * call[2], c, 1.0);
                        HostTensor got = new HostTensor(2 * call[2], c);
                        HostTensor want = new HostTensor(2 * call[2], c);
                        b.kernels().conv1d(x, seq, vw, vb, st, got);
                        ref.conv1d(x, seq, w, bias, sr, want);
                        check("conv1d k=" + k + " c=" + c, got.data(), want.data());
                        check("conv1d state k=" + k + " c=" + c, st.data(), sr.data());
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void rgLruBlockWidthsAndRowTiles(int threads) {
        try (VectorBackend b = backend(threads)) {
            for (int bw : new int[] {8, 16, 24, 40, 72}) {
                for (WeightFormat f : FORMATS) {
                    int blocks = 3;
                    int r = blocks * bw;
                    HostWeight wIn = t.random("wIn", f, 1.0 / Math.sqrt(bw), blocks, bw, bw);
                    HostWeight bIn = t.random("bIn", f, 0.1, blocks, bw);
                    HostWeight wRec = t.random("wRec", f, 1.0 / Math.sqrt(bw), blocks, bw, bw);
                    HostWeight bRec = t.random("bRec", f, 0.1, blocks, bw);
                    float[] lambda = t.gaussian(r, 1.0);
                    for (int i = 0; i < r; i++) {
                        lambda[i] = SoftplusLambda.softplus(lambda[i] + 2f); // as the model computes it at load
                    }
                    HostWeight param = t.weight("softplus(lambda)", WeightFormats.f32(), lambda, r);
                    RgLruWeights rw = new RgLruWeights(wIn, bIn, wRec, bRec, param, blocks);
                    RgLruWeights vw = new RgLruWeights(b.loadWeight(wIn), b.loadWeight(bIn), b.loadWeight(wRec),
                            b.loadWeight(bRec), b.loadWeight(param), blocks);
                    HostTensor st = t.tensor(2, r, 1.0);
                    HostTensor sr = copy(st);
                    int[][] calls = {{0, 4, 9}, {9, 13, 1}, {10, 14, 4}};
                    for (int[] call : calls) {
                        SeqBatch seq = new SeqBatch(2, call[2], new int[] {call[0], call[1]});
                        HostTensor x = t.tensor(2 * call[2], r, 1.0);
                        HostTensor got = new HostTensor(2 * call[2], r);
                        HostTensor want = new HostTensor(2 * call[2], r);
                        b.kernels().rgLru(x, seq, vw, st, got);
                        ref.rgLru(x, seq, rw, sr, want);
                        check("rgLru bw=" + bw + " " + f.name(), got.data(), want.data());
                        check("rgLru state bw=" + bw + " " + f.name(), st.data(), sr.data());
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void ropeHeadDims(int threads) {
        try (VectorBackend b = backend(threads)) {
            for (int hd : new int[] {4, 16, 36, 64, 96}) {
                SeqBatch seq = new SeqBatch(2, 2, new int[] {7, 2047});
                HostTensor x = t.tensor(4, 3 * hd, 1.0);
                HostTensor xr = copy(x);
                b.kernels().rope(x, seq, 3, hd, hd / 2, 10000f);
                ref.rope(xr, seq, 3, hd, hd / 2, 10000f);
                assertArrayEquals(xr.data(), x.data(), "rope hd=" + hd + " is bit-exact");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void attentionGroupsAndHeadDims(int threads) {
        try (VectorBackend b = backend(threads)) {
            int[][] shapes = {{6, 2, 8, 5}, {6, 1, 20, 4}, {10, 1, 16, 16}, {3, 3, 33, 7}};
            for (int[] sh : shapes) {
                AttentionSpec spec = new AttentionSpec(sh[0], sh[1], sh[2], sh[3]);
                int qc = spec.heads() * spec.headDim();
                int kvc = spec.kvHeads() * spec.headDim();
                HostTensor kc = t.tensor(2, spec.cacheCols(), 1.0);
                HostTensor vc = t.tensor(2, spec.cacheCols(), 1.0);
                HostTensor kcr = copy(kc);
                HostTensor vcr = copy(vc);
                int[] pos = {0, 9};
                for (int step = 0; step < 12; step++) {
                    int len = step == 0 ? 11 : step == 5 ? 3 : 1;
                    SeqBatch seq = new SeqBatch(2, len, pos);
                    int n = 2 * len;
                    HostTensor q = t.tensor(n, qc, 1.0);
                    HostTensor k = t.tensor(n, kvc, 1.0);
                    HostTensor v = t.tensor(n, kvc, 1.0);
                    HostTensor got = new HostTensor(n, qc);
                    HostTensor want = new HostTensor(n, qc);
                    b.kernels().localAttention(q, k, v, seq, spec, kc, vc, got);
                    ref.localAttention(q, k, v, seq, spec, kcr, vcr, want);
                    String tag = "attention " + spec + " step " + step;
                    check(tag, got.data(), want.data());
                    check(tag + " key cache", kc.data(), kcr.data());
                    check(tag + " value cache", vc.data(), vcr.data());
                    pos[0] += len;
                    pos[1] += len;
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void selectionTiesNaNAndZeros(int threads) {
        try (VectorBackend b = backend(threads)) {
            float nan = Float.NaN;
            float[][] rows = {
                {1f, 3f, 3f, 2f},
                {nan, 5f, 6f, 1f},
                {-0.0f, 0.0f, -1f, 0.0f},
                {-1f, nan, -2f, -0.5f},
                {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, -3f, Float.POSITIVE_INFINITY},
            };
            for (float[] row : rows) {
                float[] wide = new float[67];
                java.util.Arrays.fill(wide, -7f);
                System.arraycopy(row, 0, wide, 0, row.length);
                System.arraycopy(row, 0, wide, 40, row.length);
                for (float[] data : new float[][] {row, wide}) {
                    HostTensor x = new HostTensor(1, data.length, data.clone());
                    int[] got = new int[1];
                    int[] want = new int[1];
                    b.kernels().argmax(x, got);
                    ref.argmax(x, want);
                    assertEquals(want[0], got[0], "argmax of " + java.util.Arrays.toString(data));
                    for (int k : new int[] {1, 3, data.length}) {
                        int[] gi = new int[k];
                        float[] gv = new float[k];
                        int[] wi = new int[k];
                        float[] wv = new float[k];
                        b.kernels().topK(x, k, gi, gv);
                        ref.topK(x, k, wi, wv);
                        assertArrayEquals(wi, gi, "topK ids k=" + k + " of " + java.util.Arrays.toString(data));
                        assertArrayEquals(wv, gv, "topK values k=" + k);
                    }
                }
            }
            HostTensor big = t.tensor(3, 5003, 10.0);
            for (int k : new int[] {1, 40, 5003}) {
                int[] gi = new int[3 * k];
                float[] gv = new float[3 * k];
                int[] wi = new int[3 * k];
                float[] wv = new float[3 * k];
                b.kernels().topK(big, k, gi, gv);
                ref.topK(big, k, wi, wv);
                assertArrayEquals(wi, gi, "topK " + k + " of 3 x 5003");
                assertArrayEquals(wv, gv);
            }
        }
    }
}
