package dev.rg.backend.vector;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.KernelArgs;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The {@link Kernels} of the vector backend: argument checks (the shared {@link KernelArgs}), then one of the
 * op classes. Kernels of one backend run one at a time: they share the worker pool and per-op scratch, so
 * concurrent callers (several {@code ModelState}s on one model) are serialised by a lock, which costs nothing
 * uncontended and loses nothing when the workers already use every core.
 *
 * <p>Nothing here allocates on the decode path: scratch buffers grow to the largest size seen and stay.
 */
final class VectorKernels implements Kernels {
    private final VectorBackend backend;
    private final ReentrantLock lock = new ReentrantLock();
    private final Matmul matmul;
    private final RmsNorm rmsNorm;
    private final Conv1d conv1d;
    private final ElementwiseOps elementwise;
    private final RgLru rgLru;
    private final Rope rope = new Rope();
    private final Attention attention;
    private final Selection selection = new Selection();

    VectorKernels(VectorBackend backend, WorkerPool pool, long minChunkBytes) {
        this.backend = backend;
        this.matmul = new Matmul(pool, minChunkBytes);
        this.rmsNorm = new RmsNorm(pool, minChunkBytes);
        this.conv1d = new Conv1d(pool, minChunkBytes);
        this.elementwise = new ElementwiseOps(pool, minChunkBytes);
        this.rgLru = new RgLru(pool, minChunkBytes);
        this.attention = new Attention(pool, minChunkBytes);
    }

    private static float[] data(Tensor t) {
        return HostTensor.of(t).data();
    }

    private VectorWeight weight(Weight w) {
        return backend.adopt(w);
    }

    private VectorWeight dense(String what, Weight w) {
        VectorWeight v = backend.adopt(w);
        if (v.denseCode() < 0) {
            throw new IllegalArgumentException(what + " '" + w.name() + "' must be in a dense format (f32, bf16, f16) but is "
                    + w.format().name());
        }
        return v;
    }

    @Override
    public void embed(int[] ids, Weight table, float scale, Tensor out) {
        VectorWeight t = weight(table);
        KernelArgs.ids(ids, t.rows());
        KernelArgs.shape("embedding output", out, ids.length, t.cols());
        float[] o = data(out);
        lock.lock();
        try {
            Embedding.run(ids, t, scale, o);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
        if (x.cols() != w.cols() || out.rows() != x.rows() || out.cols() != w.rows()
                || (bias != null && bias.shape().elementCount() != w.rows())) {
            // KernelArgs.matmul builds its message eagerly (one string per call): only call it to throw
            KernelArgs.matmul(x, w, bias, out);
        }
        VectorWeight vw = weight(w);
        VectorWeight vb = bias == null ? null : dense("matmul bias", bias);
        HostTensor hx = HostTensor.of(x);
        HostTensor ho = HostTensor.of(out);
        lock.lock();
        try {
            matmul.run(hx, vw, vb, ho);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
        KernelArgs.sameShape("rmsNorm", x, out);
        KernelArgs.elements("rmsNorm scale", scale, x.cols());
        VectorWeight s = dense("rmsNorm scale", scale);
        float[] xs = data(x);
        float[] o = data(out);
        lock.lock();
        try {
            rmsNorm.run(xs, s, eps, o, x.rows(), x.cols());
        } finally {
            lock.unlock();
        }
    }

    private void elementwise(int op, float[] a, float[] b, float[] out, float cap, int n) {
        lock.lock();
        try {
            elementwise.run(op, a, b, out, cap, n);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        KernelArgs.sameShape("gelu", x, out);
        float[] xs = data(x);
        elementwise(ElementwiseOps.GELU, xs, null, data(out), 0f, xs.length);
    }

    @Override
    public void geluMul(Tensor gate, Tensor up, Tensor out) {
        KernelArgs.sameShape("geluMul", gate, up);
        KernelArgs.sameShape("geluMul", gate, out);
        float[] g = data(gate);
        elementwise(ElementwiseOps.GELU_MUL, g, data(up), data(out), 0f, g.length);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        KernelArgs.sameShape("mul", a, b);
        KernelArgs.sameShape("mul", a, out);
        float[] x = data(a);
        elementwise(ElementwiseOps.MUL, x, data(b), data(out), 0f, x.length);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        KernelArgs.sameShape("add", a, b);
        KernelArgs.sameShape("add", a, out);
        float[] x = data(a);
        elementwise(ElementwiseOps.ADD, x, data(b), data(out), 0f, x.length);
    }

    @Override
    public void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
        KernelArgs.rows(seq, x);
        KernelArgs.sameShape("conv1d", x, out);
        int c = x.cols();
        int k = Math.toIntExact(kernel.shape().lastDim());
        KernelArgs.elements("conv1d kernel", kernel, (long) c * k);
        KernelArgs.elements("conv1d bias", bias, c);
        KernelArgs.state("conv1d state", state, seq.batch(), (k - 1) * c);
        VectorWeight kw = dense("conv1d kernel", kernel);
        VectorWeight bw = dense("conv1d bias", bias);
        float[] xs = data(x);
        float[] st = data(state);
        float[] o = data(out);
        lock.lock();
        try {
            conv1d.run(xs, seq, kw, bw, st, o, c, k);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void rgLru(Tensor x, SeqBatch seq, RgLruWeights weights, Tensor state, Tensor out) {
        KernelArgs.rows(seq, x);
        KernelArgs.sameShape("rgLru", x, out);
        int width = weights.width();
        int blocks = weights.blocks();
        int bw = weights.blockWidth();
        if (x.cols() != width || bw * blocks != width) {
            throw new IllegalArgumentException("rgLru: input has " + x.cols() + " columns, recurrence width " + width
                    + " in " + blocks + " blocks");
        }
        KernelArgs.elements("input gate weight", weights.inputGateWeight(), (long) blocks * bw * bw);
        KernelArgs.elements("recurrent gate weight", weights.recurrentGateWeight(), (long) blocks * bw * bw);
        KernelArgs.elements("input gate bias", weights.inputGateBias(), width);
        KernelArgs.elements("recurrent gate bias", weights.recurrentGateBias(), width);
        KernelArgs.state("rgLru state", state, seq.batch(), width);
        VectorWeight inW = dense("input gate weight", weights.inputGateWeight());
        VectorWeight inB = dense("input gate bias", weights.inputGateBias());
        VectorWeight recW = dense("recurrent gate weight", weights.recurrentGateWeight());
        VectorWeight recB = dense("recurrent gate bias", weights.recurrentGateBias());
        VectorWeight param = dense("recurrent param", weights.recurrentParam());
        float[] xs = data(x);
        float[] st = data(state);
        float[] o = data(out);
        lock.lock();
        try {
            rgLru.run(xs, seq, weights, inW, inB, recW, recB, param, st, o);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
        KernelArgs.rows(seq, x);
        if (x.cols() != heads * headDim || rotaryDim % 2 != 0 || rotaryDim > headDim) {
            throw new IllegalArgumentException("rope: " + x.cols() + " columns for " + heads + " heads of " + headDim
                    + ", rotary dims " + rotaryDim);
        }
        float[] xs = data(x);
        lock.lock();
        try {
            rope.run(xs, seq, x.rows(), x.cols(), heads, headDim, rotaryDim, theta);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void localAttention(Tensor q, Tensor k, Tensor v, SeqBatch seq, AttentionSpec spec, Tensor keyCache,
            Tensor valueCache, Tensor out) {
        int n = seq.rows();
        int hd = spec.headDim();
        int kvCols = spec.kvHeads() * hd;
        KernelArgs.shape("attention query", q, n, spec.heads() * hd);
        KernelArgs.shape("attention output", out, n, spec.heads() * hd);
        KernelArgs.shape("attention key", k, n, kvCols);
        KernelArgs.shape("attention value", v, n, kvCols);
        KernelArgs.state("key cache", keyCache, seq.batch(), spec.cacheCols());
        KernelArgs.state("value cache", valueCache, seq.batch(), spec.cacheCols());
        float[] qs = data(q);
        float[] ks = data(k);
        float[] vs = data(v);
        float[] kc = data(keyCache);
        float[] vc = data(valueCache);
        float[] o = data(out);
        lock.lock();
        try {
            attention.run(qs, ks, vs, seq, spec, kc, vc, o);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void softCap(Tensor x, float cap) {
        float[] xs = data(x);
        elementwise(ElementwiseOps.SOFT_CAP, xs, null, xs, cap, xs.length);
    }

    @Override
    public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        if (src.cols() != dst.cols() || srcRow < 0 || dstRow < 0 || rows < 0 || srcRow + rows > src.rows()
                || dstRow + rows > dst.rows()) {
            throw new IllegalArgumentException("copyRows: " + rows + " rows from " + srcRow + " of " + src.rows() + "x"
                    + src.cols() + " to " + dstRow + " of " + dst.rows() + "x" + dst.cols());
        }
        System.arraycopy(data(src), srcRow * src.cols(), data(dst), dstRow * dst.cols(), rows * src.cols());
    }

    @Override
    public void argmax(Tensor x, int[] dst) {
        if (dst.length < x.rows()) {
            throw new IllegalArgumentException("argmax: " + dst.length + " slots for " + x.rows() + " rows");
        }
        if (x.cols() == 0) {
            throw new IllegalArgumentException("argmax of an empty row");
        }
        Selection.argmax(data(x), x.rows(), x.cols(), dst);
    }

    @Override
    public void topK(Tensor x, int k, int[] ids, float[] values) {
        int cols = x.cols();
        if (k < 1 || k > cols) {
            throw new IllegalArgumentException("topK: k=" + k + " for rows of " + cols);
        }
        if ((long) x.rows() * k > Math.min(ids.length, values.length)) {
            throw new IllegalArgumentException("topK: output arrays hold fewer than " + x.rows() + " x " + k + " results");
        }
        float[] xs = data(x);
        lock.lock();
        try {
            selection.topK(xs, x.rows(), cols, k, ids, values);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void fill(Tensor t, float value) {
        ElementwiseOps.fill(data(t), value);
    }
}
