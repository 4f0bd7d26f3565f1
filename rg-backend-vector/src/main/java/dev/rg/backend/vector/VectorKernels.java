package dev.rg.backend.vector;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.KernelArgs;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
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
    private final WorkerPool pool;
    private final Matmul matmul;
    // matmulGroup's arguments resolved to this backend's types, reused (guarded by lock) so a call allocates nothing
    private final VectorWeight[] groupWeights = new VectorWeight[Matmul.MAX_GROUP];
    private final VectorWeight[] groupBiases = new VectorWeight[Matmul.MAX_GROUP];
    private final HostTensor[] groupOuts = new HostTensor[Matmul.MAX_GROUP];
    private final RmsNorm rmsNorm;
    private final Conv1d conv1d;
    private final ElementwiseOps elementwise;
    private final RgLru rgLru;
    private final Rope rope;
    private final Attention attention;
    private final Selection selection = new Selection();

    VectorKernels(VectorBackend backend, WorkerPool pool, long minChunkBytes) {
        this.backend = backend;
        this.pool = pool;
        this.matmul = new Matmul(pool, minChunkBytes);
        this.rmsNorm = new RmsNorm(pool, minChunkBytes);
        this.conv1d = new Conv1d(pool, minChunkBytes);
        this.elementwise = new ElementwiseOps(pool, minChunkBytes);
        this.rgLru = new RgLru(pool, minChunkBytes);
        this.attention = new Attention(pool, minChunkBytes);
        this.rope = new Rope(pool, minChunkBytes);
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

    /** {@link Bf16Panels#pack} on this backend's workers (under the kernel lock: the pool runs one dispatch at a time). */
    MemorySegment packPanels(MemorySegment rowMajor, int rows, int cols, Arena arena) {
        lock.lock();
        try {
            return Bf16Panels.pack(rowMajor, rows, cols, pool, arena);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void embed(int[] ids, Weight table, float scale, Tensor out) {
        KernelArgs.embed(ids, table, out);
        VectorWeight t = weight(table);
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
        KernelArgs.matmul(x, w, bias, out);
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
    public void matmulGroup(Tensor x, Weight[] weights, Weight[] biases, Tensor[] outs) {
        KernelArgs.matmulGroup(x, weights, biases, outs);
        if (weights.length > Matmul.MAX_GROUP) {
            Kernels.super.matmulGroup(x, weights, biases, outs);
            return;
        }
        HostTensor hx = HostTensor.of(x);
        lock.lock();
        try {
            for (int i = 0; i < weights.length; i++) {
                groupWeights[i] = weight(weights[i]);
                groupBiases[i] = biases[i] == null ? null : dense("matmul bias", biases[i]);
                groupOuts[i] = HostTensor.of(outs[i]);
            }
            matmul.runGroup(hx, groupWeights, groupBiases, groupOuts, weights.length);
        } finally {
            Arrays.fill(groupWeights, null);
            Arrays.fill(groupBiases, null);
            Arrays.fill(groupOuts, null);
            lock.unlock();
        }
    }

    @Override
    public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
        KernelArgs.rmsNorm(x, scale, out);
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
        KernelArgs.gelu(x, out);
        float[] xs = data(x);
        elementwise(ElementwiseOps.GELU, xs, null, data(out), 0f, xs.length);
    }

    @Override
    public void geluMul(Tensor gate, Tensor up, Tensor out) {
        KernelArgs.geluMul(gate, up, out);
        float[] g = data(gate);
        elementwise(ElementwiseOps.GELU_MUL, g, data(up), data(out), 0f, g.length);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        KernelArgs.mul(a, b, out);
        float[] x = data(a);
        elementwise(ElementwiseOps.MUL, x, data(b), data(out), 0f, x.length);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        KernelArgs.add(a, b, out);
        float[] x = data(a);
        elementwise(ElementwiseOps.ADD, x, data(b), data(out), 0f, x.length);
    }

    @Override
    public void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
        KernelArgs.conv1d(x, seq, kernel, bias, state, out);
        int c = x.cols();
        int k = Math.toIntExact(kernel.shape().lastDim());
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
        KernelArgs.rgLru(x, seq, weights, state, out);
        VectorWeight inW = dense("input gate weight", weights.inputGateWeight());
        VectorWeight inB = dense("input gate bias", weights.inputGateBias());
        VectorWeight recW = dense("recurrent gate weight", weights.recurrentGateWeight());
        VectorWeight recB = dense("recurrent gate bias", weights.recurrentGateBias());
        VectorWeight decay = dense("rgLru softplusLambda", weights.softplusLambda());
        float[] xs = data(x);
        float[] st = data(state);
        float[] o = data(out);
        lock.lock();
        try {
            rgLru.run(xs, seq, weights, inW, inB, recW, recB, decay, st, o);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
        KernelArgs.rope(x, seq, heads, headDim, rotaryDim);
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
        KernelArgs.localAttention(q, k, v, seq, spec, keyCache, valueCache, out);
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
        KernelArgs.softCap(x, cap);
        float[] xs = data(x);
        elementwise(ElementwiseOps.SOFT_CAP, xs, null, xs, cap, xs.length);
    }

    @Override
    public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        KernelArgs.copyRows(src, srcRow, dst, dstRow, rows);
        System.arraycopy(data(src), srcRow * src.cols(), data(dst), dstRow * dst.cols(), rows * src.cols());
    }

    @Override
    public void argmax(Tensor x, int[] dst) {
        KernelArgs.argmax(x, dst);
        Selection.argmax(data(x), x.rows(), x.cols(), dst);
    }

    @Override
    public void topK(Tensor x, int k, int[] ids, float[] values) {
        KernelArgs.topK(x, k, ids, values);
        int cols = x.cols();
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
