package dev.rg.core.reference;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.KernelArgs;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.util.Arrays;

/**
 * The reference semantics of every kernel, written for clarity: scalar loops, float32 values with double
 * accumulation in reductions, weights read through {@link dev.rg.api.format.WeightFormat#dequantizeRow}.
 * Formulas follow ../shared/spec/recurrentgemma-forward.md; comments name the section.
 */
public final class ReferenceKernels implements Kernels {

    private static float[] data(Tensor t) {
        return HostTensor.of(t).data();
    }

    static HostWeight host(Weight w) {
        if (w instanceof HostWeight h) {
            return h;
        }
        throw new IllegalArgumentException("weight '" + w.name() + "' is not a host weight: " + w.getClass().getName());
    }

    /** All values of a (small, dense) weight as float32. */
    static float[] values(Weight w) {
        HostWeight h = host(w);
        int rows = Math.toIntExact(h.shape().rows());
        int cols = Math.toIntExact(h.shape().lastDim());
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            h.format().dequantizeRow(h, r, out, r * cols);
        }
        return out;
    }

    @Override
    public void embed(int[] ids, Weight table, float scale, Tensor out) {
        HostWeight t = host(table);
        KernelArgs.ids(ids, t.rows());
        KernelArgs.shape("embedding output", out, ids.length, t.cols());
        float[] o = data(out);
        int h = t.cols();
        for (int r = 0; r < ids.length; r++) {
            t.format().dequantizeRow(t, ids[r], o, r * h);
            for (int c = 0; c < h; c++) {
                o[r * h + c] *= scale;
            }
        }
    }

    @Override
    public void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
        KernelArgs.matmul(x, w, bias, out);
        HostWeight hw = host(w);
        float[] xs = data(x);
        float[] o = data(out);
        float[] b = bias == null ? null : values(bias);
        int n = x.rows();
        int in = x.cols();
        int outDim = w.rows();
        float[] row = new float[in];
        for (int j = 0; j < outDim; j++) {
            hw.format().dequantizeRow(hw, j, row, 0);
            for (int i = 0; i < n; i++) {
                double acc = 0;
                for (int k = 0; k < in; k++) {
                    acc += (double) xs[i * in + k] * row[k];
                }
                o[i * outDim + j] = (float) (acc + (b == null ? 0 : b[j]));
            }
        }
    }

    @Override
    public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
        KernelArgs.sameShape("rmsNorm", x, out);
        KernelArgs.elements("rmsNorm scale", scale, x.cols());
        float[] w = values(scale);
        float[] xs = data(x);
        float[] o = data(out);
        int h = x.cols();
        for (int r = 0; r < x.rows(); r++) {
            double ss = 0;
            for (int c = 0; c < h; c++) {
                ss += (double) xs[r * h + c] * xs[r * h + c];
            }
            // §4: x * rsqrt(mean(x^2) + eps) * (1 + w), in float32
            float inv = (float) (1.0 / Math.sqrt((float) (ss / h) + eps));
            for (int c = 0; c < h; c++) {
                o[r * h + c] = xs[r * h + c] * inv * (1.0f + w[c]);
            }
        }
    }

    /** {@code gelu_pytorch_tanh}: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public static float gelu(float x) {
        double inner = Math.sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x);
        return (float) (0.5 * x * (1.0 + Math.tanh(inner)));
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        KernelArgs.sameShape("gelu", x, out);
        float[] xs = data(x);
        float[] o = data(out);
        for (int i = 0; i < xs.length; i++) {
            o[i] = gelu(xs[i]);
        }
    }

    @Override
    public void geluMul(Tensor gate, Tensor up, Tensor out) {
        KernelArgs.sameShape("geluMul", gate, up);
        KernelArgs.sameShape("geluMul", gate, out);
        float[] g = data(gate);
        float[] u = data(up);
        float[] o = data(out);
        for (int i = 0; i < g.length; i++) {
            o[i] = gelu(g[i]) * u[i];
        }
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        KernelArgs.sameShape("mul", a, b);
        KernelArgs.sameShape("mul", a, out);
        float[] x = data(a);
        float[] y = data(b);
        float[] o = data(out);
        for (int i = 0; i < x.length; i++) {
            o[i] = x[i] * y[i];
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        KernelArgs.sameShape("add", a, b);
        KernelArgs.sameShape("add", a, out);
        float[] x = data(a);
        float[] y = data(b);
        float[] o = data(out);
        for (int i = 0; i < x.length; i++) {
            o[i] = x[i] + y[i];
        }
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
        float[] w = values(kernel); // [c][k]
        float[] b = values(bias);
        float[] xs = data(x);
        float[] o = data(out);
        float[] st = data(state);
        int len = seq.length();
        int hist = k - 1;
        for (int s = 0; s < seq.batch(); s++) {
            // window over time: hist previous inputs from the state, then this call's inputs (§5.1)
            float[] timeline = new float[(hist + len) * c];
            System.arraycopy(st, s * hist * c, timeline, 0, hist * c);
            System.arraycopy(xs, s * len * c, timeline, hist * c, len * c);
            for (int t = 0; t < len; t++) {
                for (int ch = 0; ch < c; ch++) {
                    double acc = b[ch];
                    for (int tap = 0; tap < k; tap++) {
                        acc += (double) w[ch * k + tap] * timeline[(t + tap) * c + ch];
                    }
                    o[(s * len + t) * c + ch] = (float) acc;
                }
            }
            System.arraycopy(timeline, len * c, st, s * hist * c, hist * c);
        }
    }

    /** torch.nn.functional.softplus with its default threshold: x for x > 20. */
    static float softplus(float x) {
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    static float sigmoid(double x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
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
        float[] wIn = values(weights.inputGateWeight());
        float[] bIn = values(weights.inputGateBias());
        float[] wRec = values(weights.recurrentGateWeight());
        float[] bRec = values(weights.recurrentGateBias());
        float[] lambda = values(weights.recurrentParam());
        float[] xs = data(x);
        float[] o = data(out);
        float[] h = data(state);
        for (int row = 0; row < seq.rows(); row++) {
            int s = row / seq.length();
            boolean reset = seq.position(row) == 0;
            int base = row * width;
            for (int blk = 0; blk < blocks; blk++) {
                for (int j = 0; j < bw; j++) {
                    int ch = blk * bw + j;
                    // §5.2: gates are x @ W[h] (W is [in, out] per block)
                    double gx = bIn[ch];
                    double ga = bRec[ch];
                    for (int i = 0; i < bw; i++) {
                        float xi = xs[base + blk * bw + i];
                        gx += (double) xi * wIn[(blk * bw + i) * bw + j];
                        ga += (double) xi * wRec[(blk * bw + i) * bw + j];
                    }
                    float gateX = sigmoid((float) gx);
                    float gateA = sigmoid((float) ga);
                    float logA = -8.0f * gateA * softplus(lambda[ch]);
                    float a = (float) Math.exp(logA);
                    float a2 = (float) Math.exp(2.0f * logA);
                    float mult = reset ? 1.0f : (float) Math.sqrt(1.0f - a2);
                    float xn = xs[base + ch] * gateX * mult;
                    float prev = reset ? 0.0f : h[s * width + ch];
                    float next = (reset ? 0.0f : a) * prev + xn;
                    h[s * width + ch] = next;
                    o[base + ch] = next;
                }
            }
        }
    }

    /** inv_freq[j] = 1 / theta^(2j / rotaryDim), in float32 as torch computes it. */
    static float inverseFrequency(int j, int rotaryDim, float theta) {
        float exponent = (float) (2 * j) / rotaryDim;
        return (float) (1.0 / (float) Math.pow(theta, exponent));
    }

    @Override
    public void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
        KernelArgs.rows(seq, x);
        if (x.cols() != heads * headDim || rotaryDim % 2 != 0 || rotaryDim > headDim) {
            throw new IllegalArgumentException("rope: " + x.cols() + " columns for " + heads + " heads of " + headDim
                    + ", rotary dims " + rotaryDim);
        }
        float[] xs = data(x);
        int half = rotaryDim / 2;
        for (int row = 0; row < x.rows(); row++) {
            int pos = seq.position(row);
            for (int j = 0; j < half; j++) {
                float angle = pos * inverseFrequency(j, rotaryDim, theta);
                float cos = (float) Math.cos(angle);
                float sin = (float) Math.sin(angle);
                for (int hd = 0; hd < heads; hd++) {
                    int base = row * x.cols() + hd * headDim;
                    float first = xs[base + j];
                    float second = xs[base + j + half];
                    // rotate_half pairing (§6): (j, j + rot/2)
                    xs[base + j] = first * cos - second * sin;
                    xs[base + j + half] = second * cos + first * sin;
                }
            }
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
        int w = spec.window();
        int len = seq.length();
        int group = spec.heads() / spec.kvHeads();
        double scale = 1.0 / Math.sqrt(hd);
        double[] scores = new double[w + 1];
        for (int s = 0; s < seq.batch(); s++) {
            int start = seq.start(s);
            for (int t = 0; t < len; t++) {
                int pos = start + t;
                int first = Math.max(0, pos - w); // DeepMind: keys t-W .. t (§6.2)
                for (int head = 0; head < spec.heads(); head++) {
                    int kvHead = head / group;
                    int qBase = (s * len + t) * spec.heads() * hd + head * hd;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int p = first; p <= pos; p++) {
                        double dot = 0;
                        int kBase = keyOffset(p, start, s, len, kvCols, kvHead, hd, w, spec.cacheCols());
                        float[] src = p >= start ? ks : kc;
                        for (int d = 0; d < hd; d++) {
                            dot += (double) qs[qBase + d] * src[kBase + d];
                        }
                        scores[p - first] = dot * scale;
                        max = Math.max(max, scores[p - first]);
                    }
                    double sum = 0;
                    for (int p = first; p <= pos; p++) {
                        scores[p - first] = Math.exp(scores[p - first] - max);
                        sum += scores[p - first];
                    }
                    for (int d = 0; d < hd; d++) {
                        double acc = 0;
                        for (int p = first; p <= pos; p++) {
                            int vBase = keyOffset(p, start, s, len, kvCols, kvHead, hd, w, spec.cacheCols());
                            float[] src = p >= start ? vs : vc;
                            acc += scores[p - first] * src[vBase + d];
                        }
                        o[qBase + d] = (float) (acc / sum);
                    }
                }
            }
            // keep the last W positions: position p goes to slot p % W
            for (int p = Math.max(start, start + len - w); p < start + len; p++) {
                int row = s * len + (p - start);
                int slot = s * spec.cacheCols() + (p % w) * kvCols;
                System.arraycopy(ks, row * kvCols, kc, slot, kvCols);
                System.arraycopy(vs, row * kvCols, vc, slot, kvCols);
            }
        }
    }

    /** Where the key/value of position {@code p} for {@code kvHead} lives: this call's rows or the cache. */
    private static int keyOffset(int p, int start, int s, int len, int kvCols, int kvHead, int hd, int w, int cacheCols) {
        if (p >= start) {
            return (s * len + (p - start)) * kvCols + kvHead * hd;
        }
        return s * cacheCols + (p % w) * kvCols + kvHead * hd;
    }

    @Override
    public void softCap(Tensor x, float cap) {
        float[] xs = data(x);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) (cap * Math.tanh(xs[i] / cap));
        }
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
        float[] xs = data(x);
        int cols = x.cols();
        for (int r = 0; r < x.rows(); r++) {
            int best = 0;
            for (int c = 1; c < cols; c++) {
                if (xs[r * cols + c] > xs[r * cols + best]) {
                    best = c;
                }
            }
            dst[r] = best;
        }
    }

    @Override
    public void topK(Tensor x, int k, int[] ids, float[] values) {
        float[] xs = data(x);
        int cols = x.cols();
        if (k < 1 || k > cols) {
            throw new IllegalArgumentException("topK: k=" + k + " for rows of " + cols);
        }
        for (int r = 0; r < x.rows(); r++) {
            Integer[] order = new Integer[cols];
            for (int c = 0; c < cols; c++) {
                order[c] = c;
            }
            int base = r * cols;
            Arrays.sort(order, (a, b) -> {
                int cmp = Float.compare(xs[base + b], xs[base + a]);
                return cmp != 0 ? cmp : Integer.compare(a, b);
            });
            for (int i = 0; i < k; i++) {
                ids[r * k + i] = order[i];
                values[r * k + i] = xs[base + order[i]];
            }
        }
    }

    @Override
    public void fill(Tensor t, float value) {
        Arrays.fill(data(t), value);
    }
}
