package dev.rg.api.backend;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every op's {@link KernelArgs} check, on random shapes: the right arguments pass, and each wrong argument is
 * refused with one line that names the op and that argument.
 */
class KernelArgsTest {
    private static final int ROUNDS = 25;
    private final SplittableRandom random = new SplittableRandom(20261205);

    /** A tensor that is only a shape (the checks never read data). */
    private record T(int rows, int cols) implements Tensor {
        @Override
        public void close() {}
    }

    /** A weight that is only a name and a shape. */
    private record W(String name, Shape shape) implements Weight {
        W(String name, long... dims) {
            this(name, Shape.of(dims));
        }

        @Override
        public WeightFormat format() {
            return WeightFormats.f32();
        }

        @Override
        public long byteSize() {
            return shape.elementCount() * 4;
        }
    }

    private int size() {
        return 1 + random.nextInt(40);
    }

    /** A value different from {@code n} (and still >= 0). */
    private int other(int n) {
        return n == 0 || random.nextBoolean() ? n + 1 + random.nextInt(3) : n - 1 - random.nextInt(n);
    }

    private SeqBatch seq() {
        int batch = 1 + random.nextInt(3);
        int[] starts = new int[batch];
        for (int b = 0; b < batch; b++) {
            starts[b] = random.nextInt(100);
        }
        return new SeqBatch(batch, 1 + random.nextInt(5), starts);
    }

    private static void rejects(String argument, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, argument);
        assertTrue(e.getMessage().contains(argument), "the message names '" + argument + "': " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void embed() {
        for (int i = 0; i < ROUNDS; i++) {
            int vocab = size();
            int h = size();
            int[] ids = random.ints(1 + random.nextInt(6), 0, vocab).toArray();
            W table = new W("table", vocab, h);
            assertDoesNotThrow(() -> KernelArgs.embed(ids, table, new T(ids.length, h)));
            rejects("embed out", () -> KernelArgs.embed(ids, table, new T(ids.length, other(h))));
            rejects("embed out", () -> KernelArgs.embed(ids, table, new T(other(ids.length), h)));
            int[] bad = ids.clone();
            bad[random.nextInt(bad.length)] = random.nextBoolean() ? vocab + random.nextInt(5) : -1 - random.nextInt(5);
            rejects("embed ids", () -> KernelArgs.embed(bad, table, new T(bad.length, h)));
        }
    }

    @Test
    void matmul() {
        for (int i = 0; i < ROUNDS; i++) {
            int n = size();
            int in = size();
            int out = size();
            W w = new W("w", out, in);
            W bias = new W("b", out);
            assertDoesNotThrow(() -> KernelArgs.matmul(new T(n, in), w, bias, new T(n, out)));
            assertDoesNotThrow(() -> KernelArgs.matmul(new T(n, in), w, null, new T(n, out)));
            rejects("matmul x", () -> KernelArgs.matmul(new T(n, other(in)), w, bias, new T(n, out)));
            rejects("matmul out", () -> KernelArgs.matmul(new T(n, in), w, bias, new T(other(n), out)));
            rejects("matmul out", () -> KernelArgs.matmul(new T(n, in), w, bias, new T(n, other(out))));
            rejects("matmul bias", () -> KernelArgs.matmul(new T(n, in), w, new W("b", other(out)), new T(n, out)));
        }
    }

    @Test
    void geluMulMatmul() {
        for (int i = 0; i < ROUNDS; i++) {
            int n = size();
            int in = size();
            int out = size();
            W w = new W("down", out, in);
            W bias = new W("b", out);
            T gate = new T(n, in);
            T up = new T(n, in);
            assertDoesNotThrow(() -> KernelArgs.geluMulMatmul(gate, up, w, bias, new T(n, out)));
            assertDoesNotThrow(() -> KernelArgs.geluMulMatmul(gate, up, w, null, new T(n, out)));
            T wrongUp = random.nextBoolean() ? new T(other(n), in) : new T(n, other(in));
            rejects("geluMulMatmul up", () -> KernelArgs.geluMulMatmul(gate, wrongUp, w, bias, new T(n, out)));
            int wrongIn = other(in);
            rejects("geluMulMatmul gate", () -> KernelArgs.geluMulMatmul(new T(n, wrongIn), new T(n, wrongIn), w, bias,
                    new T(n, out)));
            rejects("geluMulMatmul out", () -> KernelArgs.geluMulMatmul(gate, up, w, bias, new T(other(n), out)));
            rejects("geluMulMatmul out", () -> KernelArgs.geluMulMatmul(gate, up, w, bias, new T(n, other(out))));
            rejects("geluMulMatmul bias", () -> KernelArgs.geluMulMatmul(gate, up, w, new W("b", other(out)), new T(n, out)));
            T square = new T(n, n);
            W squareW = new W("down", n, n);
            rejects("geluMulMatmul out", () -> KernelArgs.geluMulMatmul(square, new T(n, n), squareW, null, square));
        }
    }

    @Test
    void fusedResidualAdds() {
        for (int i = 0; i < ROUNDS; i++) {
            int n = size();
            int in = size();
            int out = size();
            W w = new W("o", out, in);
            W bias = new W("b", out);
            T x = new T(n, in);
            T up = new T(n, in);
            T delta = new T(n, out);
            T residual = new T(n, out);
            assertDoesNotThrow(() -> KernelArgs.matmulAdd(x, w, bias, delta, residual));
            assertDoesNotThrow(() -> KernelArgs.geluMulMatmulAdd(x, up, w, null, delta, residual));
            T wrong = random.nextBoolean() ? new T(other(n), out) : new T(n, other(out));
            rejects("matmulAdd residual", () -> KernelArgs.matmulAdd(x, w, bias, delta, wrong));
            rejects("matmulAdd residual", () -> KernelArgs.matmulAdd(x, w, bias, delta, delta));
            rejects("matmul out", () -> KernelArgs.matmulAdd(x, w, bias, wrong, residual));
            rejects("geluMulMatmulAdd residual", () -> KernelArgs.geluMulMatmulAdd(x, up, w, bias, delta, wrong));
            rejects("geluMulMatmulAdd residual", () -> KernelArgs.geluMulMatmulAdd(x, up, w, bias, delta, delta));
            rejects("geluMulMatmul up", () -> KernelArgs.geluMulMatmulAdd(x, new T(n, other(in)), w, bias, delta, residual));
            T square = new T(n, n);
            W squareW = new W("o", n, n);
            rejects("matmulAdd residual", () -> KernelArgs.matmulAdd(square, squareW, null, new T(n, n), square));
            T sqUp = new T(n, n);
            rejects("geluMulMatmulAdd residual", () -> KernelArgs.geluMulMatmulAdd(square, sqUp, squareW, null, new T(n, n),
                    sqUp));
        }
    }

    @Test
    void rmsNormMatmulGroup() {
        for (int i = 0; i < ROUNDS; i++) {
            int n = size();
            int in = size();
            int out = size();
            T x = new T(n, in);
            W scale = new W("norm", in);
            W[] ws = {new W("gate", out, in), new W("up", out, in)};
            W[] bs = {null, new W("b", out)};
            T[] outs = {new T(n, out), new T(n, out)};
            assertDoesNotThrow(() -> KernelArgs.rmsNormMatmulGroup(x, scale, new T(n, in), ws, bs, outs));
            rejects("rmsNorm scale", () -> KernelArgs.rmsNormMatmulGroup(x, new W("norm", other(in)), new T(n, in), ws, bs,
                    outs));
            rejects("rmsNorm out", () -> KernelArgs.rmsNormMatmulGroup(x, scale, new T(n, other(in)), ws, bs, outs));
            rejects("rmsNormMatmulGroup normed", () -> KernelArgs.rmsNormMatmulGroup(x, scale, x, ws, bs, outs));
            rejects("matmul out", () -> KernelArgs.rmsNormMatmulGroup(x, scale, new T(n, in), ws, bs,
                    new T[] {outs[0], new T(n, other(out))}));
            rejects("matmulGroup", () -> KernelArgs.rmsNormMatmulGroup(x, scale, new T(n, in), ws, new W[] {null}, outs));
            T sq = new T(n, n);
            T sqNormed = new T(n, n);
            W[] sqW = {new W("gate", n, n)};
            rejects("rmsNormMatmulGroup: an output is x", () -> KernelArgs.rmsNormMatmulGroup(sq, new W("norm", n), sqNormed,
                    sqW, new W[] {null}, new T[] {sq}));
            rejects("rmsNormMatmulGroup: an output is normed", () -> KernelArgs.rmsNormMatmulGroup(sq, new W("norm", n),
                    sqNormed, sqW, new W[] {null}, new T[] {sqNormed}));
        }
    }

    @Test
    void normsAndElementwise() {
        for (int i = 0; i < ROUNDS; i++) {
            int r = size();
            int c = size();
            T x = new T(r, c);
            T wrong = random.nextBoolean() ? new T(other(r), c) : new T(r, other(c));
            W scale = new W("norm", c);
            W badScale = new W("norm", other(c));
            assertDoesNotThrow(() -> KernelArgs.rmsNorm(x, scale, new T(r, c)));
            rejects("rmsNorm out", () -> KernelArgs.rmsNorm(x, scale, wrong));
            rejects("rmsNorm scale", () -> KernelArgs.rmsNorm(x, badScale, new T(r, c)));
            assertDoesNotThrow(() -> KernelArgs.addRmsNorm(x, new T(r, c), scale, new T(r, c)));
            rejects("addRmsNorm delta", () -> KernelArgs.addRmsNorm(x, wrong, scale, new T(r, c)));
            rejects("addRmsNorm normed", () -> KernelArgs.addRmsNorm(x, new T(r, c), scale, wrong));
            rejects("addRmsNorm scale", () -> KernelArgs.addRmsNorm(x, new T(r, c), badScale, new T(r, c)));
            assertDoesNotThrow(() -> KernelArgs.gelu(x, new T(r, c)));
            rejects("gelu out", () -> KernelArgs.gelu(x, wrong));
            assertDoesNotThrow(() -> KernelArgs.geluMul(x, new T(r, c), new T(r, c)));
            rejects("geluMul up", () -> KernelArgs.geluMul(x, wrong, new T(r, c)));
            rejects("geluMul out", () -> KernelArgs.geluMul(x, new T(r, c), wrong));
            assertDoesNotThrow(() -> KernelArgs.mul(x, new T(r, c), new T(r, c)));
            rejects("mul b", () -> KernelArgs.mul(x, wrong, new T(r, c)));
            rejects("mul out", () -> KernelArgs.mul(x, new T(r, c), wrong));
            assertDoesNotThrow(() -> KernelArgs.add(x, new T(r, c), new T(r, c)));
            rejects("add b", () -> KernelArgs.add(x, wrong, new T(r, c)));
            rejects("add out", () -> KernelArgs.add(x, new T(r, c), wrong));
            float cap = 0.01f + random.nextFloat() * 100;
            assertDoesNotThrow(() -> KernelArgs.softCap(x, cap));
            rejects("softCap cap", () -> KernelArgs.softCap(x, -cap));
            rejects("softCap cap", () -> KernelArgs.softCap(x, 0f));
            rejects("softCap cap", () -> KernelArgs.softCap(x, Float.NaN));
            rejects("softCap cap", () -> KernelArgs.softCap(x, Float.POSITIVE_INFINITY));
        }
    }

    @Test
    void conv1d() {
        for (int i = 0; i < ROUNDS; i++) {
            SeqBatch seq = seq();
            int n = seq.rows();
            int c = size();
            int k = 1 + random.nextInt(6);
            T x = new T(n, c);
            W kernel = new W("conv", c, 1, k);
            W bias = new W("conv bias", c);
            T state = new T(seq.batch(), (k - 1) * c);
            assertDoesNotThrow(() -> KernelArgs.conv1d(x, seq, kernel, bias, state, new T(n, c)));
            rejects("conv1d x", () -> KernelArgs.conv1d(new T(other(n), c), seq, kernel, bias, state, new T(n, c)));
            rejects("conv1d out", () -> KernelArgs.conv1d(x, seq, kernel, bias, state, new T(n, other(c))));
            rejects("conv1d kernel", () -> KernelArgs.conv1d(x, seq, new W("conv", other(c), 1, k), bias, state, new T(n, c)));
            rejects("conv1d kernel", () -> KernelArgs.conv1d(x, seq, new W("conv", c, 1, 0), bias, state, new T(n, c)));
            rejects("conv1d bias", () -> KernelArgs.conv1d(x, seq, kernel, new W("conv bias", other(c)), state, new T(n, c)));
            // a state may hold more sequences than the call feeds (the first seq.batch() rows are used), never fewer
            assertDoesNotThrow(() -> KernelArgs.conv1d(x, seq, kernel, bias, new T(seq.batch() + 3, (k - 1) * c), new T(n, c)));
            rejects("conv1d state", () -> KernelArgs.conv1d(x, seq, kernel, bias, new T(seq.batch() - 1, (k - 1) * c),
                    new T(n, c)));
            rejects("conv1d state", () -> KernelArgs.conv1d(x, seq, kernel, bias, new T(seq.batch(), (k - 1) * c + 1),
                    new T(n, c)));
        }
    }

    private static RgLruWeights lru(int blocks, int bw, int inW, int inB, int recW, int recB) {
        return new RgLruWeights(new W("wIn", inW), new W("bIn", inB), new W("wRec", recW), new W("bRec", recB),
                new W("softplus(lambda)", (long) blocks * bw), blocks);
    }

    @Test
    void rgLru() {
        for (int i = 0; i < ROUNDS; i++) {
            SeqBatch seq = seq();
            int n = seq.rows();
            int blocks = 1 + random.nextInt(4);
            int bw = size();
            int r = blocks * bw;
            int gate = blocks * bw * bw;
            RgLruWeights ok = lru(blocks, bw, gate, r, gate, r);
            T x = new T(n, r);
            T state = new T(seq.batch(), r);
            assertDoesNotThrow(() -> KernelArgs.rgLru(x, seq, ok, state, new T(n, r)));
            rejects("rgLru x", () -> KernelArgs.rgLru(new T(other(n), r), seq, ok, state, new T(n, r)));
            rejects("rgLru x", () -> KernelArgs.rgLru(new T(n, r + 1), seq, ok, state, new T(n, r + 1)));
            rejects("rgLru out", () -> KernelArgs.rgLru(x, seq, ok, state, new T(n, other(r))));
            assertDoesNotThrow(() -> KernelArgs.rgLru(x, seq, ok, new T(seq.batch() + 2, r), new T(n, r)));
            rejects("rgLru state", () -> KernelArgs.rgLru(x, seq, ok, new T(seq.batch() - 1, r), new T(n, r)));
            rejects("rgLru inputGateWeight", () -> KernelArgs.rgLru(x, seq, lru(blocks, bw, other(gate), r, gate, r), state,
                    new T(n, r)));
            rejects("rgLru inputGateBias", () -> KernelArgs.rgLru(x, seq, lru(blocks, bw, gate, other(r), gate, r), state,
                    new T(n, r)));
            rejects("rgLru recurrentGateWeight", () -> KernelArgs.rgLru(x, seq, lru(blocks, bw, gate, r, other(gate), r), state,
                    new T(n, r)));
            rejects("rgLru recurrentGateBias", () -> KernelArgs.rgLru(x, seq, lru(blocks, bw, gate, r, gate, other(r)), state,
                    new T(n, r)));
            RgLruWeights uneven = new RgLruWeights(new W("wIn", gate), new W("bIn", r + 1), new W("wRec", gate),
                    new W("bRec", r + 1), new W("softplus(lambda)", r + 1), blocks + 1);
            if ((r + 1) % (blocks + 1) != 0) {
                rejects("rgLru weights", () -> KernelArgs.rgLru(new T(n, r + 1), seq, uneven, state, new T(n, r + 1)));
            }
        }
    }

    @Test
    void rope() {
        for (int i = 0; i < ROUNDS; i++) {
            SeqBatch seq = seq();
            int n = seq.rows();
            int heads = 1 + random.nextInt(4);
            int hd = 2 * (1 + random.nextInt(16));
            int rot = 2 * random.nextInt(hd / 2 + 1);
            T x = new T(n, heads * hd);
            assertDoesNotThrow(() -> KernelArgs.rope(x, seq, heads, hd, rot));
            rejects("rope x", () -> KernelArgs.rope(new T(other(n), heads * hd), seq, heads, hd, rot));
            rejects("rope x", () -> KernelArgs.rope(new T(n, heads * hd + 1), seq, heads, hd, rot));
            rejects("rope rotaryDim", () -> KernelArgs.rope(x, seq, heads, hd, rot + 1));
            rejects("rope rotaryDim", () -> KernelArgs.rope(x, seq, heads, hd, hd + 2));
            rejects("rope heads", () -> KernelArgs.rope(x, seq, 0, hd, rot));
        }
    }

    @Test
    void ropeQk() {
        for (int i = 0; i < ROUNDS; i++) {
            SeqBatch seq = seq();
            int n = seq.rows();
            int heads = 1 + random.nextInt(4);
            int kvHeads = 1 + random.nextInt(heads);
            int hd = 2 * (1 + random.nextInt(16));
            int rot = 2 * random.nextInt(hd / 2 + 1);
            T q = new T(n, heads * hd);
            T k = new T(n, kvHeads * hd);
            assertDoesNotThrow(() -> KernelArgs.ropeQk(q, k, seq, heads, kvHeads, hd, rot));
            rejects("ropeQk q", () -> KernelArgs.ropeQk(new T(other(n), heads * hd), k, seq, heads, kvHeads, hd, rot));
            rejects("ropeQk k", () -> KernelArgs.ropeQk(q, new T(other(n), kvHeads * hd), seq, heads, kvHeads, hd, rot));
            rejects("ropeQk q", () -> KernelArgs.ropeQk(new T(n, heads * hd + 1), k, seq, heads, kvHeads, hd, rot));
            rejects("ropeQk k", () -> KernelArgs.ropeQk(q, new T(n, kvHeads * hd + 2), seq, heads, kvHeads, hd, rot));
            rejects("ropeQk rotaryDim", () -> KernelArgs.ropeQk(q, k, seq, heads, kvHeads, hd, rot + 1));
            rejects("ropeQk rotaryDim", () -> KernelArgs.ropeQk(q, k, seq, heads, kvHeads, hd, hd + 2));
            rejects("ropeQk heads", () -> KernelArgs.ropeQk(q, k, seq, 0, kvHeads, hd, rot));
            rejects("ropeQk kvHeads", () -> KernelArgs.ropeQk(q, k, seq, heads, 0, hd, rot));
            T same = new T(n, heads * hd);
            rejects("ropeQk q and k", () -> KernelArgs.ropeQk(same, same, seq, heads, heads, hd, rot));
        }
    }

    @Test
    void localAttention() {
        for (int i = 0; i < ROUNDS; i++) {
            SeqBatch seq = seq();
            int n = seq.rows();
            int kv = 1 + random.nextInt(2);
            AttentionSpec spec = new AttentionSpec(kv * (1 + random.nextInt(3)), kv, size(), size());
            int qc = spec.heads() * spec.headDim();
            int kc = spec.kvHeads() * spec.headDim();
            T q = new T(n, qc);
            T k = new T(n, kc);
            T v = new T(n, kc);
            T cache = new T(seq.batch(), spec.cacheCols());
            T out = new T(n, qc);
            assertDoesNotThrow(() -> KernelArgs.localAttention(q, k, v, seq, spec, cache, cache, out));
            rejects("localAttention q", () -> KernelArgs.localAttention(new T(n, other(qc)), k, v, seq, spec, cache, cache, out));
            rejects("localAttention k", () -> KernelArgs.localAttention(q, new T(other(n), kc), v, seq, spec, cache, cache, out));
            rejects("localAttention v", () -> KernelArgs.localAttention(q, k, new T(n, other(kc)), seq, spec, cache, cache, out));
            rejects("localAttention out", () -> KernelArgs.localAttention(q, k, v, seq, spec, cache, cache, new T(other(n), qc)));
            T bigCache = new T(seq.batch() + 1, spec.cacheCols());
            assertDoesNotThrow(() -> KernelArgs.localAttention(q, k, v, seq, spec, bigCache, bigCache, out));
            T badCache = new T(seq.batch() - 1, spec.cacheCols());
            rejects("localAttention keyCache", () -> KernelArgs.localAttention(q, k, v, seq, spec, badCache, cache, out));
            rejects("localAttention valueCache", () -> KernelArgs.localAttention(q, k, v, seq, spec, cache, badCache, out));
        }
    }

    @Test
    void copyRowsAndSelection() {
        for (int i = 0; i < ROUNDS; i++) {
            int rows = size();
            int cols = size();
            T src = new T(rows, cols);
            T dst = new T(size(), cols);
            int n = random.nextInt(Math.min(rows, dst.rows()) + 1);
            int from = random.nextInt(rows - n + 1);
            int to = random.nextInt(dst.rows() - n + 1);
            assertDoesNotThrow(() -> KernelArgs.copyRows(src, from, dst, to, n));
            rejects("copyRows dst", () -> KernelArgs.copyRows(src, from, new T(dst.rows(), other(cols)), to, n));
            rejects("copyRows rows", () -> KernelArgs.copyRows(src, rows - n + 1, dst, to, n));
            rejects("copyRows rows", () -> KernelArgs.copyRows(src, from, dst, dst.rows() - n + 1, n));
            rejects("copyRows rows", () -> KernelArgs.copyRows(src, from, dst, to, -1 - random.nextInt(3)));

            assertDoesNotThrow(() -> KernelArgs.argmax(src, new int[rows + random.nextInt(3)]));
            rejects("argmax dst", () -> KernelArgs.argmax(src, new int[rows - 1]));
            rejects("argmax x", () -> KernelArgs.argmax(new T(rows, 0), new int[rows]));

            int k = 1 + random.nextInt(cols);
            assertDoesNotThrow(() -> KernelArgs.topK(src, k, new int[rows * k], new float[rows * k]));
            rejects("topK k", () -> KernelArgs.topK(src, cols + 1 + random.nextInt(3), new int[rows * (cols + 4)],
                    new float[rows * (cols + 4)]));
            rejects("topK k", () -> KernelArgs.topK(src, 0, new int[rows], new float[rows]));
            rejects("topK ids", () -> KernelArgs.topK(src, k, new int[rows * k - 1], new float[rows * k]));
            rejects("topK values", () -> KernelArgs.topK(src, k, new int[rows * k], new float[rows * k - 1]));
        }
    }
}
