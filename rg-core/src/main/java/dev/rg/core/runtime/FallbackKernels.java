package dev.rg.core.runtime;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.Op;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.core.reference.ReferenceKernels;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Runs each op natively when the backend's {@link Capabilities} cover it and its {@link Kernels} implement it
 * (rather than inherit the default body that throws), and otherwise on the reference kernels, moving the tensors
 * involved to the host and back. Correct for any backend, fast only for the native ops; {@code rg backends} and
 * {@code rg check} say which ops fall back.
 */
public final class FallbackKernels implements Kernels {
    private final Backend backend;
    private final Kernels fast;
    private final Capabilities caps;
    /** The ops the backend's kernels implement (the others only have {@link Kernels}' default body). */
    private final Set<Op> implemented;
    private final ReferenceKernels reference = new ReferenceKernels();
    private final Map<Weight, HostWeight> hostOf;
    private final Set<Weight> hostOnly;

    /**
     * @param backend  the backend
     * @param hostOf   the host source of every weight loaded on the backend (an identity map), for fallback ops
     * @param hostOnly weights left on the host because the backend has no kernel for their format (identity set)
     */
    public FallbackKernels(Backend backend, Map<Weight, HostWeight> hostOf, Set<Weight> hostOnly) {
        this.backend = backend;
        this.fast = backend.kernels();
        this.caps = backend.capabilities();
        this.implemented = Op.implementedBy(fast);
        this.hostOf = hostOf;
        this.hostOnly = hostOnly;
    }

    /** The kernels to use: the backend's own when it covers every op and weight, else this wrapper. */
    public static Kernels forBackend(Backend backend, Map<Weight, HostWeight> hostOf, Set<Weight> hostOnly) {
        if (hostOnly.isEmpty() && fallbackOps(backend).isEmpty()) {
            return backend.kernels();
        }
        return new FallbackKernels(backend, hostOf, hostOnly);
    }

    /**
     * The ops of {@code backend} that run on the reference kernels whatever the weight format: those outside its
     * {@link Capabilities} and those its {@link Kernels} do not implement.
     */
    public static Set<Op> fallbackOps(Backend backend) {
        Set<Op> declared = backend.capabilities().ops();
        Set<Op> implemented = Op.implementedBy(backend.kernels());
        Set<Op> out = EnumSet.allOf(Op.class);
        out.removeIf(op -> declared.contains(op) && implemented.contains(op));
        return out;
    }

    private boolean nativeOp(Op op) {
        return implemented.contains(op) && caps.supports(op, "f32");
    }

    private boolean nativeOp(Op op, Weight w) {
        return implemented.contains(op) && caps.supports(op, w.format().name()) && !hostOnly.contains(w);
    }

    private HostWeight host(Weight w) {
        if (w == null) {
            return null;
        }
        HostWeight h = hostOf.get(w);
        if (h != null) {
            return h;
        }
        if (w instanceof HostWeight hw) {
            return hw;
        }
        throw new IllegalStateException("no host copy of weight '" + w.name() + "' for a fallback op");
    }

    private HostTensor toHost(Tensor t) {
        if (t instanceof HostTensor h) {
            return h;
        }
        HostTensor h = new HostTensor(t.rows(), t.cols());
        backend.download(t, h.data());
        return h;
    }

    private void back(HostTensor h, Tensor t) {
        if (h != t) {
            backend.upload(h.data(), t);
        }
    }

    @Override
    public void embed(int[] ids, Weight table, float scale, Tensor out) {
        if (nativeOp(Op.EMBED, table)) {
            fast.embed(ids, table, scale, out);
            return;
        }
        HostTensor o = toHost(out);
        reference.embed(ids, host(table), scale, o);
        back(o, out);
    }

    @Override
    public void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
        if (nativeOp(Op.MATMUL, w)) {
            fast.matmul(x, w, bias, out);
            return;
        }
        HostTensor o = toHost(out);
        reference.matmul(toHost(x), host(w), host(bias), o);
        back(o, out);
    }

    @Override
    public void matmulGroup(Tensor x, Weight[] weights, Weight[] biases, Tensor[] outs) {
        boolean allNative = true;
        for (Weight w : weights) {
            allNative &= nativeOp(Op.MATMUL, w);
        }
        if (allNative) {
            fast.matmulGroup(x, weights, biases, outs);
            return;
        }
        Kernels.super.matmulGroup(x, weights, biases, outs); // each through matmul above: native or reference
    }

    @Override
    public void geluMulMatmul(Tensor gate, Tensor up, Weight w, Weight bias, Tensor out) {
        if (nativeOp(Op.GELU_MUL) && nativeOp(Op.MATMUL, w)) {
            fast.geluMulMatmul(gate, up, w, bias, out);
            return;
        }
        Kernels.super.geluMulMatmul(gate, up, w, bias, out); // geluMul and matmul above: each native or reference
    }

    @Override
    public void matmulAdd(Tensor x, Weight w, Weight bias, Tensor delta, Tensor residual) {
        if (nativeOp(Op.MATMUL, w) && nativeOp(Op.ADD)) {
            fast.matmulAdd(x, w, bias, delta, residual);
            return;
        }
        Kernels.super.matmulAdd(x, w, bias, delta, residual); // matmul and add above: each native or reference
    }

    @Override
    public void geluMulMatmulAdd(Tensor gate, Tensor up, Weight w, Weight bias, Tensor delta, Tensor residual) {
        if (nativeOp(Op.GELU_MUL) && nativeOp(Op.MATMUL, w) && nativeOp(Op.ADD)) {
            fast.geluMulMatmulAdd(gate, up, w, bias, delta, residual);
            return;
        }
        Kernels.super.geluMulMatmulAdd(gate, up, w, bias, delta, residual);
    }

    @Override
    public void rmsNormMatmulGroup(Tensor x, Weight scale, float eps, Tensor normed, Weight[] weights, Weight[] biases,
            Tensor[] outs) {
        boolean allNative = nativeOp(Op.RMS_NORM);
        for (Weight w : weights) {
            allNative &= nativeOp(Op.MATMUL, w);
        }
        if (allNative) {
            fast.rmsNormMatmulGroup(x, scale, eps, normed, weights, biases, outs);
            return;
        }
        Kernels.super.rmsNormMatmulGroup(x, scale, eps, normed, weights, biases, outs);
    }

    /** The backend's choice: the fused ops fall back op by op like the others, so either sequence stays correct. */
    @Override
    public boolean fusesNormsIntoMatmuls() {
        return fast.fusesNormsIntoMatmuls();
    }

    @Override
    public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
        if (nativeOp(Op.RMS_NORM)) {
            fast.rmsNorm(x, scale, eps, out);
            return;
        }
        HostTensor o = toHost(out);
        reference.rmsNorm(toHost(x), host(scale), eps, o);
        back(o, out);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        if (nativeOp(Op.GELU)) {
            fast.gelu(x, out);
            return;
        }
        HostTensor o = toHost(out);
        reference.gelu(toHost(x), o);
        back(o, out);
    }

    @Override
    public void geluMul(Tensor gate, Tensor up, Tensor out) {
        if (nativeOp(Op.GELU_MUL)) {
            fast.geluMul(gate, up, out);
            return;
        }
        HostTensor o = toHost(out);
        reference.geluMul(toHost(gate), toHost(up), o);
        back(o, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        if (nativeOp(Op.MUL)) {
            fast.mul(a, b, out);
            return;
        }
        HostTensor o = toHost(out);
        reference.mul(toHost(a), toHost(b), o);
        back(o, out);
    }

    @Override
    public void group(Runnable ops) {
        fast.group(ops); // the ops call back into this object, so the fallbacks still apply inside
    }

    @Override
    public void stepInputs(SeqBatch seq) {
        fast.stepInputs(seq);
    }

    @Override
    public void addRmsNorm(Tensor x, Tensor delta, Weight scale, float eps, Tensor normed) {
        if (nativeOp(Op.ADD) && nativeOp(Op.RMS_NORM)) {
            fast.addRmsNorm(x, delta, scale, eps, normed);
            return;
        }
        add(x, delta, x);
        rmsNorm(x, scale, eps, normed);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        if (nativeOp(Op.ADD)) {
            fast.add(a, b, out);
            return;
        }
        HostTensor o = toHost(out);
        reference.add(toHost(a), toHost(b), o);
        back(o, out);
    }

    @Override
    public void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
        if (nativeOp(Op.CONV1D)) {
            fast.conv1d(x, seq, kernel, bias, state, out);
            return;
        }
        HostTensor s = toHost(state);
        HostTensor o = toHost(out);
        reference.conv1d(toHost(x), seq, host(kernel), host(bias), s, o);
        back(s, state);
        back(o, out);
    }

    @Override
    public void rgLru(Tensor x, SeqBatch seq, RgLruWeights w, Tensor state, Tensor out) {
        if (nativeOp(Op.RG_LRU)) {
            fast.rgLru(x, seq, w, state, out);
            return;
        }
        HostTensor s = toHost(state);
        HostTensor o = toHost(out);
        RgLruWeights hw = new RgLruWeights(host(w.inputGateWeight()), host(w.inputGateBias()),
                host(w.recurrentGateWeight()), host(w.recurrentGateBias()), host(w.softplusLambda()), w.blocks());
        reference.rgLru(toHost(x), seq, hw, s, o);
        back(s, state);
        back(o, out);
    }

    @Override
    public void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
        if (nativeOp(Op.ROPE)) {
            fast.rope(x, seq, heads, headDim, rotaryDim, theta);
            return;
        }
        HostTensor h = toHost(x);
        reference.rope(h, seq, heads, headDim, rotaryDim, theta);
        back(h, x);
    }

    @Override
    public void ropeQk(Tensor q, Tensor k, SeqBatch seq, int heads, int kvHeads, int headDim, int rotaryDim, float theta) {
        if (nativeOp(Op.ROPE)) {
            fast.ropeQk(q, k, seq, heads, kvHeads, headDim, rotaryDim, theta);
            return;
        }
        Kernels.super.ropeQk(q, k, seq, heads, kvHeads, headDim, rotaryDim, theta); // rope above, on the reference
    }

    @Override
    public void localAttention(Tensor q, Tensor k, Tensor v, SeqBatch seq, AttentionSpec spec, Tensor keyCache,
            Tensor valueCache, Tensor out) {
        if (nativeOp(Op.LOCAL_ATTENTION)) {
            fast.localAttention(q, k, v, seq, spec, keyCache, valueCache, out);
            return;
        }
        HostTensor kc = toHost(keyCache);
        HostTensor vc = toHost(valueCache);
        HostTensor o = toHost(out);
        reference.localAttention(toHost(q), toHost(k), toHost(v), seq, spec, kc, vc, o);
        back(kc, keyCache);
        back(vc, valueCache);
        back(o, out);
    }

    @Override
    public void softCap(Tensor x, float cap) {
        if (nativeOp(Op.SOFT_CAP)) {
            fast.softCap(x, cap);
            return;
        }
        HostTensor h = toHost(x);
        reference.softCap(h, cap);
        back(h, x);
    }

    @Override
    public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        if (nativeOp(Op.COPY_ROWS)) {
            fast.copyRows(src, srcRow, dst, dstRow, rows);
            return;
        }
        HostTensor d = toHost(dst);
        reference.copyRows(toHost(src), srcRow, d, dstRow, rows);
        back(d, dst);
    }

    @Override
    public void argmax(Tensor x, int[] dst) {
        if (nativeOp(Op.ARGMAX)) {
            fast.argmax(x, dst);
            return;
        }
        reference.argmax(toHost(x), dst);
    }

    @Override
    public void topK(Tensor x, int k, int[] ids, float[] values) {
        if (nativeOp(Op.TOP_K)) {
            fast.topK(x, k, ids, values);
            return;
        }
        reference.topK(toHost(x), k, ids, values);
    }

    @Override
    public void fill(Tensor t, float value) {
        if (nativeOp(Op.FILL)) {
            fast.fill(t, value);
            return;
        }
        HostTensor h = toHost(t);
        reference.fill(h, value);
        back(h, t);
    }
}
