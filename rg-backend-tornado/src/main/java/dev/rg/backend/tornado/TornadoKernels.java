package dev.rg.backend.tornado;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.KernelArgs;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.backend.tornado.kernels.RgKernels;

/**
 * The {@link Kernels} of the tornado backend: argument checks (every op's {@link KernelArgs} method, then the
 * limits of these kernels), then the parameters of one device kernel and its launch. Every method runs on the device;
 * only token ids, positions, small parameters and the argmax/topK results cross to or from the host.
 */
final class TornadoKernels implements Kernels {
    private final TornadoBackend backend;
    private final DeviceSession dev;

    TornadoKernels(TornadoBackend backend, DeviceSession dev) {
        this.backend = backend;
        this.dev = dev;
    }

    private int off(Tensor t) {
        return backend.tensor(t).offset();
    }

    private DeviceWeight weight(Weight w) {
        return backend.weight(w);
    }

    /** The float32 copy of a small dense weight (norm scales, biases, conv, gates). */
    private int small(Weight w) {
        DeviceWeight d = weight(w);
        if (d.sfOff() < 0) {
            throw new IllegalArgumentException("weight '" + w.name() + "' (" + w.format().name() + ", " + w.shape()
                    + ") is used by a small op but has no float32 copy on the device (dense weights up to "
                    + WeightStore.SMALL_MAX + " elements have one)");
        }
        return d.sfOff();
    }

    private static void positions(OpGraph g, SeqBatch seq) {
        if (seq.batch() > RgKernels.P_SIZE - RgKernels.P_LIST) {
            throw new IllegalArgumentException("the tornado backend runs batches of at most "
                    + (RgKernels.P_SIZE - RgKernels.P_LIST) + " sequences, got " + seq.batch());
        }
        for (int s = 0; s < seq.batch(); s++) {
            g.p.set(RgKernels.P_LIST + s, seq.start(s));
        }
    }

    /** Records the group's launches and, once the sequence has recurred and been compiled, runs it as one graph. */
    @Override
    public void group(Runnable ops) {
        synchronized (dev) {
            dev.launcher().group(ops);
        }
    }

    @Override
    public void embed(int[] ids, Weight table, float scale, Tensor out) {
        synchronized (dev) {
            KernelArgs.embed(ids, table, out);
            DeviceWeight t = weight(table);
            int cols = t.cols();
            int o = off(out);
            OpGraph g = dev.graphs().embed.get(Math.max(0, t.group()));
            int chunk = RgKernels.P_SIZE - RgKernels.P_LIST;
            for (int r0 = 0; r0 < ids.length; r0 += chunk) {
                int rows = Math.min(chunk, ids.length - r0);
                g.p.set(0, rows);
                g.p.set(1, cols);
                g.p.set(2, o + r0 * cols);
                g.p.set(3, t.fmt());
                g.p.set(4, t.off());
                g.p.set(5, t.sOff());
                for (int r = 0; r < rows; r++) {
                    g.p.set(RgKernels.P_LIST + r, ids[r0 + r]);
                }
                g.f.set(0, scale);
                dev.launcher().run(g, (long) rows * cols);
            }
        }
    }

    @Override
    public void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
        synchronized (dev) {
            KernelArgs.matmul(x, w, bias, out);
            launchMatmuls(x, new Weight[] {w}, new Weight[] {bias}, new Tensor[] {out});
        }
    }

    /**
     * One launch for all the group's matmuls when their weights share a weight buffer group (always, unless a model
     * outgrows one buffer), else one launch each.
     */
    @Override
    public void matmulGroup(Tensor x, Weight[] weights, Weight[] biases, Tensor[] outs) {
        synchronized (dev) {
            KernelArgs.matmulGroup(x, weights, biases, outs);
            int group = weight(weights[0]).group();
            boolean together = weights.length <= RgKernels.MM_MAX;
            for (Weight w : weights) {
                together &= weight(w).group() == group;
            }
            if (together) {
                launchMatmuls(x, weights, biases, outs);
            } else {
                for (int i = 0; i < weights.length; i++) {
                    launchMatmuls(x, new Weight[] {weights[i]}, new Weight[] {biases[i]}, new Tensor[] {outs[i]});
                }
            }
        }
    }

    /** One launch of the matmul kernel over weights of one buffer group (checked by the caller). */
    private void launchMatmuls(Tensor x, Weight[] weights, Weight[] biases, Tensor[] outs) {
        int count = weights.length;
        DeviceWeight[] d = new DeviceWeight[count];
        int[] biasOff = new int[count];
        int[] yOff = new int[count];
        for (int i = 0; i < count; i++) {
            d[i] = weight(weights[i]);
            biasOff[i] = biases[i] == null ? -1 : small(biases[i]);
            yOff[i] = off(outs[i]);
        }
        int xo = off(x);
        long total = 0;
        for (Weight w : weights) {
            total += w.rows();
        }
        if (x.rows() == 0 || total == 0) {
            return;
        }
        int group = Math.max(0, d[0].group());
        boolean rows = dev.cpuKernels();
        OpGraph g = rows ? dev.graphs().matmulRows.get(group) : dev.graphs().matmul.get(group);
        g.p.set(0, x.rows());
        g.p.set(1, x.cols());
        g.p.set(2, count);
        g.p.set(3, xo);
        g.p.set(4, Math.toIntExact(total));
        int first = 0;
        for (int i = 0; i < count; i++) {
            int e = RgKernels.MM_BASE + i * RgKernels.MM_STRIDE;
            g.p.set(e, Math.toIntExact(weights[i].rows()));
            g.p.set(e + 1, yOff[i]);
            g.p.set(e + 2, d[i].fmt());
            g.p.set(e + 3, d[i].off());
            g.p.set(e + 4, d[i].sOff());
            g.p.set(e + 5, biasOff[i]);
            g.p.set(e + RgKernels.MM_FIRST, first);
            first += Math.toIntExact(weights[i].rows());
        }
        if (rows) {
            dev.launcher().run(g, total);
        } else {
            dev.launcher().runGroups(g, total);
        }
    }

    @Override
    public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
        synchronized (dev) {
            KernelArgs.rmsNorm(x, scale, out);
            int s = small(scale);
            int xo = off(x);
            int oo = off(out);
            if (x.rows() == 0) {
                return;
            }
            OpGraph g = dev.graphs().rms;
            g.p.set(0, x.cols());
            g.p.set(1, xo);
            g.p.set(2, oo);
            g.p.set(3, s);
            g.f.set(0, eps);
            dev.launcher().runGroups(g, x.rows());
        }
    }

    @Override
    public void addRmsNorm(Tensor x, Tensor delta, Weight scale, float eps, Tensor normed) {
        synchronized (dev) {
            KernelArgs.add(x, delta, x);
            KernelArgs.rmsNorm(x, scale, normed);
            int s = small(scale);
            int xo = off(x);
            int dOff = off(delta);
            int oo = off(normed);
            if (x.rows() == 0) {
                return;
            }
            OpGraph g = dev.graphs().addRms;
            g.p.set(0, x.cols());
            g.p.set(1, xo);
            g.p.set(2, dOff);
            g.p.set(3, oo);
            g.p.set(4, s);
            g.f.set(0, eps);
            dev.launcher().runGroups(g, x.rows());
        }
    }

    private void elementwise(int op, Tensor a, Tensor b, Tensor out, float value) {
        int ao = off(a);
        int bo = b == null ? ao : off(b);
        int oo = off(out);
        long n = out.size();
        if (n == 0) {
            return;
        }
        OpGraph g = dev.graphs().ew;
        g.p.set(0, op);
        g.p.set(1, Math.toIntExact(n));
        g.p.set(2, ao);
        g.p.set(3, bo);
        g.p.set(4, oo);
        g.f.set(0, value);
        dev.launcher().run(g, n);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        synchronized (dev) {
            KernelArgs.gelu(x, out);
            elementwise(RgKernels.EW_GELU, x, null, out, 0);
        }
    }

    @Override
    public void geluMul(Tensor gate, Tensor up, Tensor out) {
        synchronized (dev) {
            KernelArgs.geluMul(gate, up, out);
            elementwise(RgKernels.EW_GELU_MUL, gate, up, out, 0);
        }
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        synchronized (dev) {
            KernelArgs.mul(a, b, out);
            elementwise(RgKernels.EW_MUL, a, b, out, 0);
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        synchronized (dev) {
            KernelArgs.add(a, b, out);
            elementwise(RgKernels.EW_ADD, a, b, out, 0);
        }
    }

    @Override
    public void softCap(Tensor x, float cap) {
        synchronized (dev) {
            KernelArgs.softCap(x, cap);
            elementwise(RgKernels.EW_SOFTCAP, x, null, x, cap);
        }
    }

    @Override
    public void fill(Tensor t, float value) {
        synchronized (dev) {
            elementwise(RgKernels.EW_FILL, t, null, t, value);
        }
    }

    @Override
    public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        synchronized (dev) {
            KernelArgs.copyRows(src, srcRow, dst, dstRow, rows);
            long n = (long) rows * src.cols();
            if (n == 0) {
                return;
            }
            int from = off(src) + srcRow * src.cols();
            int to = off(dst) + dstRow * dst.cols();
            boolean overlap = from < to + n && to < from + n && from != to;
            if (!overlap) {
                copy(from, to, n);
            } else {
                int tmp = dev.scratch(n);
                from = off(src) + srcRow * src.cols(); // offsets are stable across a rebuild
                try {
                    copy(from, tmp, n);
                    copy(tmp, to, n);
                } finally {
                    dev.free(tmp, n);
                }
            }
        }
    }

    private void copy(int from, int to, long n) {
        OpGraph g = dev.graphs().ew;
        g.p.set(0, RgKernels.EW_COPY);
        g.p.set(1, Math.toIntExact(n));
        g.p.set(2, from);
        g.p.set(3, from);
        g.p.set(4, to);
        dev.launcher().run(g, n);
    }

    @Override
    public void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
        synchronized (dev) {
            KernelArgs.conv1d(x, seq, kernel, bias, state, out);
            int c = x.cols();
            int k = Math.toIntExact(kernel.shape().lastDim());
            int ko = small(kernel);
            int bo = small(bias);
            int xo = off(x);
            int oo = off(out);
            int so = off(state);
            OpGraph g = dev.graphs().conv;
            g.p.set(0, seq.batch());
            g.p.set(1, seq.length());
            g.p.set(2, c);
            g.p.set(3, k);
            g.p.set(4, xo);
            g.p.set(5, oo);
            g.p.set(6, so);
            g.p.set(7, ko);
            g.p.set(8, bo);
            dev.launcher().run(g, (long) seq.batch() * c);
        }
    }

    @Override
    public void rgLru(Tensor x, SeqBatch seq, RgLruWeights weights, Tensor state, Tensor out) {
        synchronized (dev) {
            KernelArgs.rgLru(x, seq, weights, state, out);
            int width = weights.width();
            // the CPU kernel set runs gates and scan in one task, without the two scratch tensors
            boolean oneTask = dev.cpuKernels();
            long n = oneTask ? 0 : (long) seq.rows() * width;
            int coef = dev.scratch(n);
            int in = dev.scratch(n);
            try {
                OpGraph g = oneTask ? dev.graphs().lruSeq : dev.graphs().lru;
                g.p.set(0, seq.batch());
                g.p.set(1, seq.length());
                g.p.set(2, width);
                g.p.set(3, weights.blocks());
                g.p.set(4, weights.blockWidth());
                g.p.set(5, off(x));
                g.p.set(6, coef);
                g.p.set(7, in);
                g.p.set(8, small(weights.inputGateWeight()));
                g.p.set(9, small(weights.inputGateBias()));
                g.p.set(10, small(weights.recurrentGateWeight()));
                g.p.set(11, small(weights.recurrentGateBias()));
                g.p.set(12, small(weights.softplusLambda()));
                g.p.set(13, off(out));
                g.p.set(14, off(state));
                positions(g, seq);
                if (oneTask) {
                    dev.launcher().run(g, (long) seq.batch() * width);
                } else {
                    dev.launcher().run(g, (long) seq.rows() * width, (long) seq.batch() * width);
                }
            } finally {
                dev.free(in, n);
                dev.free(coef, n);
            }
        }
    }

    @Override
    public void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
        synchronized (dev) {
            KernelArgs.rope(x, seq, heads, headDim, rotaryDim);
            launchRope(x, heads, null, 0, seq, headDim, rotaryDim, theta);
        }
    }

    /** Both rotations in one launch. */
    @Override
    public void ropeQk(Tensor q, Tensor k, SeqBatch seq, int heads, int kvHeads, int headDim, int rotaryDim, float theta) {
        synchronized (dev) {
            KernelArgs.ropeQk(q, k, seq, heads, kvHeads, headDim, rotaryDim);
            launchRope(q, heads, k, kvHeads, seq, headDim, rotaryDim, theta);
        }
    }

    /** The rope kernel on {@code x} ({@code heads}) and, when {@code k} is not null, on {@code k} ({@code kHeads}). */
    private void launchRope(Tensor x, int heads, Tensor k, int kHeads, SeqBatch seq, int headDim, int rotaryDim,
            float theta) {
        int half = rotaryDim / 2;
        if (half > RgKernels.F_SIZE) {
            throw new IllegalArgumentException("rope: rotary dims " + rotaryDim + " above the tornado backend's limit "
                    + 2 * RgKernels.F_SIZE);
        }
        if (half == 0 || x.rows() == 0) {
            return;
        }
        int xo = off(x);
        int ko = k == null ? 0 : off(k);
        int kh = k == null ? 0 : kHeads;
        OpGraph g = dev.graphs().rope;
        g.p.set(0, x.rows());
        g.p.set(1, seq.length());
        g.p.set(2, heads);
        g.p.set(3, headDim);
        g.p.set(4, half);
        g.p.set(5, xo);
        g.p.set(6, kh);
        g.p.set(7, ko);
        positions(g, seq);
        for (int j = 0; j < half; j++) {
            // inv_freq[j] = 1 / theta^(2j / rotaryDim), in float32 as the reference (and torch) compute it
            float exponent = (float) (2 * j) / rotaryDim;
            g.f.set(j, (float) (1.0 / (float) Math.pow(theta, exponent)));
        }
        dev.launcher().run(g, (long) x.rows() * (heads + kh) * half);
    }

    @Override
    public void localAttention(Tensor q, Tensor k, Tensor v, SeqBatch seq, AttentionSpec spec, Tensor keyCache,
            Tensor valueCache, Tensor out) {
        synchronized (dev) {
            KernelArgs.localAttention(q, k, v, seq, spec, keyCache, valueCache, out);
            int n = seq.rows();
            int hd = spec.headDim();
            int kvCols = spec.kvHeads() * hd;
            if (hd > RgKernels.MAX_HEAD_DIM) {
                throw new IllegalArgumentException("attention: head dimension " + hd + " above the tornado backend's limit "
                        + RgKernels.MAX_HEAD_DIM);
            }
            OpGraph g = dev.graphs().attn;
            g.p.set(0, spec.heads());
            g.p.set(1, spec.kvHeads());
            g.p.set(2, hd);
            g.p.set(3, spec.window());
            g.p.set(4, seq.length());
            g.p.set(5, off(q));
            g.p.set(6, off(k));
            g.p.set(7, off(v));
            g.p.set(8, off(out));
            g.p.set(9, off(keyCache));
            g.p.set(10, off(valueCache));
            g.p.set(11, spec.cacheCols());
            g.p.set(12, seq.batch());
            positions(g, seq);
            g.f.set(0, (float) (1.0 / Math.sqrt(hd)));
            long cached = (long) seq.batch() * Math.min(seq.length(), spec.window()) * kvCols;
            dev.launcher().run(g, (long) n * spec.heads() * dev.local(), cached);
        }
    }

    @Override
    public void argmax(Tensor x, int[] dst) {
        synchronized (dev) {
            KernelArgs.argmax(x, dst);
            int cols = x.cols();
            int xo = off(x);
            if (x.rows() == 0) {
                return;
            }
            OpGraph g = dev.graphs().argmax;
            for (int r0 = 0; r0 < x.rows(); r0 += KernelPlan.RESULTS) {
                int rows = Math.min(KernelPlan.RESULTS, x.rows() - r0);
                g.p.set(0, cols);
                g.p.set(1, xo + r0 * cols);
                dev.launcher().runGroups(g, rows);
                for (int r = 0; r < rows; r++) {
                    dst[r0 + r] = dev.graphs().resultIds.get(r);
                }
            }
            dev.markStep();
        }
    }

    @Override
    public void topK(Tensor x, int k, int[] ids, float[] values) {
        synchronized (dev) {
            KernelArgs.topK(x, k, ids, values);
            int cols = x.cols();
            if (k > KernelPlan.RESULTS) {
                throw new IllegalArgumentException("topK: k=" + k + " above the tornado backend's limit " + KernelPlan.RESULTS);
            }
            int xo = off(x);
            OpGraph g = dev.graphs().topK;
            int perLaunch = KernelPlan.RESULTS / k;
            for (int r0 = 0; r0 < x.rows(); r0 += perLaunch) {
                int rows = Math.min(perLaunch, x.rows() - r0);
                g.p.set(0, cols);
                g.p.set(1, xo + r0 * cols);
                g.p.set(2, k);
                dev.launcher().runGroups(g, rows);
                for (int i = 0; i < rows * k; i++) {
                    ids[r0 * k + i] = dev.graphs().resultIds.get(i);
                    values[r0 * k + i] = dev.graphs().resultValues.get(i);
                }
            }
            dev.markStep();
        }
    }
}
