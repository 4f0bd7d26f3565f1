package dev.rg.conformance;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.Op;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.core.model.SoftplusLambda;
import dev.rg.core.reference.ReferenceBackend;
import dev.rg.core.runtime.FallbackKernels;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Checks every kernel of a backend against the reference kernels on seeded random inputs (Gaussian,
 * never zeros or ones), with sizes that exercise vector tails (odd widths) and state carried across calls
 * (prefill then decode, batches at different positions, prompts longer than the window).
 *
 * <p>The backend's kernels run as the model runs them, through {@link FallbackKernels}: an op the backend does not
 * implement (or does not list in its capabilities) runs on the reference and is reported as a
 * {@link CheckResult#fallback fallback}, not as a failure.
 */
public final class OpConformance {
    private final Backend tested;
    private final Backend reference = new ReferenceBackend();
    private final Arena arena = Arena.ofConfined();
    private final SplittableRandom random = new SplittableRandom(20261122);
    private final List<CheckResult> results = new ArrayList<>();
    /** The host source of every weight loaded on the tested backend, for the ops that fall back. */
    private final Map<Weight, HostWeight> hostOf = new IdentityHashMap<>();
    private final Kernels kernels;

    public OpConformance(Backend tested) {
        this.tested = tested;
        this.kernels = new FallbackKernels(tested, hostOf, Set.of());
    }

    private Weight load(HostWeight w) {
        Weight t = tested.loadWeight(w);
        hostOf.put(t, w);
        return t;
    }

    /** Runs every check and returns the results (the backend is not closed). */
    public List<CheckResult> run() {
        try {
            for (Op op : FallbackKernels.fallbackOps(tested)) {
                results.add(CheckResult.fallback(op.method()));
            }
            for (String format : formats()) {
                matmul(format, 1, 67, 37);
                matmul(format, 5, 256, 96);
                matmul(format, 17, 130, 64);
                matmul(format, 70, 264, 200); // prefill-sized, with partial tiles in every dimension (tensor-core path)
                matmul(format, 70, 256, 200); // the same with K a multiple of 32: whole scale blocks per k step (cuda int8)
                matmulGroup(format, true, 1, 131, 67, 8, 8);   // decode q/k/v-like: a large and two small weights
                matmulGroup(format, true, 19, 130, 45, 45);   // prefill gate/up-like
                // one format throughout, as a model has it (device backends then run the group as one launch)
                matmulGroup(format, false, 1, 131, 67, 8, 8);
                matmulGroup(format, false, 1, 320, 19, 45);
                matmulGroup(format, false, 11, 256, 45, 24, 37); // two passes of a batched decode
                geluMulMatmul(format, 1, 131, 37);
                geluMulMatmul(format, 3, 320, 45);
                geluMulMatmul(format, 11, 256, 19); // two passes of a batched decode
                geluMulMatmul(format, 19, 130, 40); // prefill
                // the residual add in the output projection and the norm in the next group (fusesNormsIntoMatmuls)
                matmulAdd(format, false, 1, 131, 37);
                matmulAdd(format, true, 3, 320, 45);
                matmulAdd(format, true, 11, 256, 19); // two passes of a batched decode
                matmulAdd(format, false, 19, 130, 40); // prefill
                rmsNormMatmulGroup(format, 1, 131, 67, 8, 8);
                rmsNormMatmulGroup(format, 11, 256, 45, 24, 37); // two passes of a batched decode
                rmsNormMatmulGroup(format, 19, 130, 45, 45); // prefill
                batchedDecode(format, 131, 19); // batches of 1..16 rows (GPU matvecs take 8 rows per pass)
                batchedDecode(format, 320, 45);
                embed(format);
            }
            rmsNorm();
            elementwise();
            conv1d(0);
            conv1d(3); // a state with rows beyond the call's batch (a batch decoder's free slots): left untouched
            rgLru(3, 24, new int[][] {{0, 3, 6}, {6, 9, 1}, {7, 10, 3}, {10, 13, 1}, {13, 16, 12}}, 0);
            // wider gate blocks: device backends split the gates' inner dimension over blocks for short calls
            rgLru(2, 64, new int[][] {{0, 0, 1}, {1, 1, 20}, {21, 21, 1}}, 2);
            rope();
            // the attention block's fused q and k rotation: a decode batch (MQA, half rotary) and a prefill (full rotary)
            ropeQk(new SeqBatch(3, 1, new int[] {0, 7, 3001}), 4, 1, 16, 8, 10000f);
            ropeQk(new SeqBatch(2, 5, new int[] {0, 40}), 3, 3, 12, 12, 500000f);
            attention(8, 11, new int[] {0, 5}, 9, 0);
            attention(16, 3, new int[] {0, 40}, 20, 2);
            attention(64, 5, new int[] {0, 70}, 4, 0); // device backends split a decode step's window over several blocks
            softCapAndSelection();
        } finally {
            arena.close();
        }
        return results;
    }

    /** Formats the backend claims natively plus f32 (the others would only test the fallback). */
    private List<String> formats() {
        List<String> out = new ArrayList<>();
        for (WeightFormat f : WeightFormats.all().values()) {
            if (tested.capabilities().supports(Op.MATMUL, f.name()) && f.canQuantize()) {
                out.add(f.name());
            }
        }
        return out;
    }

    private float[] gaussian(int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u = 1.0 - random.nextDouble();
            a[i] = (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return a;
    }

    private HostWeight weight(String name, WeightFormat format, float[] values, long... dims) {
        Shape shape = Shape.of(dims);
        int cols = Math.toIntExact(shape.lastDim());
        return format.quantize(name, shape, (row, dst) -> System.arraycopy(values, Math.toIntExact(row * cols), dst, 0, cols),
                arena);
    }

    private HostWeight dense(String name, float[] values, long... dims) {
        return weight(name, WeightFormats.f32(), values, dims);
    }

    /** The same tensor on both backends. */
    private record Both(Tensor t, Tensor r) {}

    private Both both(float[] values, int rows, int cols) {
        Tensor t = tested.allocate(rows, cols);
        Tensor r = reference.allocate(rows, cols);
        tested.upload(values, t);
        reference.upload(values, r);
        return new Both(t, r);
    }

    private void compare(String name, Both b, Tolerance tol) {
        float[] got = new float[(int) b.t().size()];
        float[] want = new float[(int) b.r().size()];
        tested.download(b.t(), got);
        reference.download(b.r(), want);
        results.add(tol.compare(name, got, want, want.length));
    }

    private void matmul(String format, int n, int in, int out) {
        WeightFormat f = WeightFormats.byName(format);
        HostWeight w = weight("w", f, gaussian(in * out, 1.0 / Math.sqrt(in)), out, in);
        HostWeight bias = dense("b", gaussian(out, 0.1), out);
        Weight tw = load(w);
        Weight tb = load(bias);
        Both x = both(gaussian(n * in, 1.0), n, in);
        Both y = both(new float[n * out], n, out);
        kernels.matmul(x.t(), tw, tb, y.t());
        reference.kernels().matmul(x.r(), w, bias, y.r());
        compare("matmul " + format + " " + n + "x" + in + " -> " + out, y, Tolerance.KERNEL);
        kernels.matmul(x.t(), tw, null, y.t());
        reference.kernels().matmul(x.r(), w, null, y.r());
        compare("matmul " + format + " " + n + "x" + in + " -> " + out + " without bias", y, Tolerance.KERNEL);
    }

    /**
     * A matmul group: weights of {@code outs} rows each, all in {@code format}, or when {@code mixed} the first in
     * {@code format} and the others alternately f32 and {@code format} (groups of mixed formats), the second without a
     * bias; each output against the reference's single matmul.
     */
    private void matmulGroup(String format, boolean mixed, int n, int in, int... outs) {
        Group g = group(format, mixed, n, in, outs);
        Both x = both(gaussian(n * in, 1.0), n, in);
        kernels.matmulGroup(x.t(), g.tw, g.tb, g.to);
        for (int i = 0; i < outs.length; i++) {
            reference.kernels().matmul(x.r(), g.rw[i], g.rb[i], g.y[i].r());
            compare("matmulGroup " + (mixed ? "mixed " : "") + format + " " + n + "x" + in + " -> " + Arrays.toString(outs)
                    + " part " + i, g.y[i], Tolerance.KERNEL);
        }
    }

    /** A group's weights and biases on both backends and its outputs: tested ({@code t*}) and reference ({@code r*}). */
    private record Group(Weight[] tw, Weight[] tb, Tensor[] to, HostWeight[] rw, HostWeight[] rb, Both[] y) {}

    /**
     * Weights of {@code outs} rows each, all in {@code format}, or when {@code mixed} the first in {@code format} and the
     * others alternately f32 and {@code format}; the second without a bias; outputs filled with garbage (they must be
     * overwritten).
     */
    private Group group(String format, boolean mixed, int n, int in, int... outs) {
        Group g = new Group(new Weight[outs.length], new Weight[outs.length], new Tensor[outs.length],
                new HostWeight[outs.length], new HostWeight[outs.length], new Both[outs.length]);
        for (int i = 0; i < outs.length; i++) {
            WeightFormat f = !mixed || i % 2 == 0 ? WeightFormats.byName(format) : WeightFormats.f32();
            g.rw[i] = weight("w" + i, f, gaussian(in * outs[i], 1.0 / Math.sqrt(in)), outs[i], in);
            g.rb[i] = i == 1 ? null : dense("b" + i, gaussian(outs[i], 0.1), outs[i]);
            g.tw[i] = load(g.rw[i]);
            g.tb[i] = g.rb[i] == null ? null : load(g.rb[i]);
            g.y[i] = both(gaussian(n * outs[i], 1.0), n, outs[i]);
            g.to[i] = g.y[i].t();
        }
        return g;
    }

    /**
     * The MLP's fused GeGLU + down projection against the reference's composition (geluMul, then matmul); {@code up}
     * must come out unchanged ({@code gate} is scratch and not compared).
     */
    private void geluMulMatmul(String format, int n, int in, int out) {
        WeightFormat f = WeightFormats.byName(format);
        HostWeight w = weight("down", f, gaussian(in * out, 1.0 / Math.sqrt(in)), out, in);
        HostWeight bias = dense("b", gaussian(out, 0.1), out);
        Weight tw = load(w);
        Weight tb = load(bias);
        Both gate = both(gaussian(n * in, 1.5), n, in);
        Both up = both(gaussian(n * in, 1.0), n, in);
        Both y = both(gaussian(n * out, 1.0), n, out); // garbage in the output: must be overwritten
        kernels.geluMulMatmul(gate.t(), up.t(), tw, tb, y.t());
        reference.kernels().geluMul(gate.r(), up.r(), gate.r());
        reference.kernels().matmul(gate.r(), w, bias, y.r());
        String name = "geluMulMatmul " + format + " " + n + "x" + in + " -> " + out;
        compare(name, y, Tolerance.KERNEL);
        compare(name + ": up unchanged", up, Tolerance.KERNEL);
        Both z = both(gaussian(n * in, 1.5), n, in);
        Both u = both(gaussian(n * in, 1.0), n, in);
        kernels.geluMulMatmul(z.t(), u.t(), tw, null, y.t());
        reference.kernels().geluMul(z.r(), u.r(), z.r());
        reference.kernels().matmul(z.r(), w, null, y.r());
        compare(name + " without bias", y, Tolerance.KERNEL);
    }

    /**
     * {@link Kernels#matmulAdd} (or with {@code gelu}, {@link Kernels#geluMulMatmulAdd}) against the reference's
     * composition: the matmul (after geluMul) into {@code delta}, then {@code residual += delta}. Only the residual is
     * compared ({@code delta} and {@code gate} are scratch); {@code up} and {@code x} must come out unchanged.
     */
    private void matmulAdd(String format, boolean gelu, int n, int in, int out) {
        WeightFormat f = WeightFormats.byName(format);
        HostWeight w = weight("o", f, gaussian(in * out, 1.0 / Math.sqrt(in)), out, in);
        HostWeight bias = dense("b", gaussian(out, 0.1), out);
        Weight tw = load(w);
        Weight tb = load(bias);
        String name = (gelu ? "geluMulMatmulAdd " : "matmulAdd ") + format + " " + n + "x" + in + " -> " + out;
        for (boolean withBias : new boolean[] {true, false}) {
            Both x = both(gaussian(n * in, 1.5), n, in);
            Both up = both(gaussian(n * in, 1.0), n, in);
            Both delta = both(gaussian(n * out, 1.0), n, out); // garbage: scratch
            Both residual = both(gaussian(n * out, 3.0), n, out);
            if (gelu) {
                kernels.geluMulMatmulAdd(x.t(), up.t(), tw, withBias ? tb : null, delta.t(), residual.t());
                reference.kernels().geluMul(x.r(), up.r(), x.r());
            } else {
                kernels.matmulAdd(x.t(), tw, withBias ? tb : null, delta.t(), residual.t());
            }
            reference.kernels().matmul(x.r(), w, withBias ? bias : null, delta.r());
            reference.kernels().add(residual.r(), delta.r(), residual.r());
            String what = name + (withBias ? "" : " without bias");
            compare(what + ": residual", residual, Tolerance.KERNEL);
            compare(what + (gelu ? ": up unchanged" : ": x unchanged"), gelu ? up : x, Tolerance.KERNEL);
        }
    }

    /**
     * {@link Kernels#rmsNormMatmulGroup} of weights all in {@code format} (the second without a bias) against the
     * reference's rmsNorm and single matmuls; {@code x} must come out unchanged ({@code normed} is scratch).
     */
    private void rmsNormMatmulGroup(String format, int n, int in, int... outs) {
        HostWeight scale = weight("norm", WeightFormats.bf16(), gaussian(in, 0.3), in);
        Weight ts = load(scale);
        Group g = group(format, false, n, in, outs);
        Both x = both(gaussian(n * in, 3.0), n, in);
        Both normed = both(gaussian(n * in, 1.0), n, in); // garbage: scratch
        kernels.rmsNormMatmulGroup(x.t(), ts, 1e-6f, normed.t(), g.tw, g.tb, g.to);
        reference.kernels().rmsNorm(x.r(), scale, 1e-6f, normed.r());
        String name = "rmsNormMatmulGroup " + format + " " + n + "x" + in + " -> " + Arrays.toString(outs);
        for (int i = 0; i < outs.length; i++) {
            reference.kernels().matmul(normed.r(), g.rw[i], g.rb[i], g.y[i].r());
            compare(name + " part " + i, g.y[i], Tolerance.KERNEL);
        }
        compare(name + ": x unchanged", x, Tolerance.KERNEL);
    }

    /**
     * Batched decode: 1 to 16 activation rows (the sequences of a batch, one token each) against one weight, the shape a
     * backend's batched matvec sees. {@code in = 131} leaves a vector tail in every format, {@code in = 320} is whole
     * 64-blocks (the vectorised 4-bit kernels); {@code out} is not a multiple of the usual register tiles. One result per
     * shape, over every batch size (bias added, so the bias path of every row is covered too).
     */
    private void batchedDecode(String format, int in, int out) {
        WeightFormat f = WeightFormats.byName(format);
        HostWeight w = weight("w", f, gaussian(in * out, 1.0 / Math.sqrt(in)), out, in);
        HostWeight bias = dense("b", gaussian(out, 0.1), out);
        Weight tw = load(w);
        Weight tb = load(bias);
        int max = 16;
        float[] got = new float[max * (max + 1) / 2 * out];
        float[] want = new float[got.length];
        int at = 0;
        for (int n = 1; n <= max; n++) {
            Both x = both(gaussian(n * in, 1.0), n, in);
            Both y = both(new float[n * out], n, out);
            kernels.matmul(x.t(), tw, tb, y.t());
            reference.kernels().matmul(x.r(), w, bias, y.r());
            float[] g = new float[n * out];
            float[] r = new float[n * out];
            tested.download(y.t(), g);
            reference.download(y.r(), r);
            System.arraycopy(g, 0, got, at, g.length);
            System.arraycopy(r, 0, want, at, r.length);
            at += g.length;
        }
        results.add(Tolerance.KERNEL.compare("matmul " + format + " batched decode 1..16 x " + in + " -> " + out, got, want,
                want.length));
    }

    private void embed(String format) {
        int vocab = 50;
        int h = 72;
        HostWeight table = weight("table", WeightFormats.byName(format), gaussian(vocab * h, 1.0), vocab, h);
        Weight tt = load(table);
        int[] ids = {3, 49, 0, 17, 17};
        Both out = both(new float[ids.length * h], ids.length, h);
        kernels.embed(ids, tt, 8.0f, out.t());
        reference.kernels().embed(ids, table, 8.0f, out.r());
        compare("embed " + format, out, Tolerance.KERNEL);
    }

    private void rmsNorm() {
        for (WeightFormat f : List.of(WeightFormats.f32(), WeightFormats.bf16(), WeightFormats.f16())) {
            int h = 83;
            HostWeight scale = weight("norm", f, gaussian(h, 0.3), h);
            Weight ts = load(scale);
            Both x = both(gaussian(4 * h, 3.0), 4, h);
            Both y = both(new float[4 * h], 4, h);
            kernels.rmsNorm(x.t(), ts, 1e-6f, y.t());
            reference.kernels().rmsNorm(x.r(), scale, 1e-6f, y.r());
            compare("rmsNorm " + f.name() + " scale", y, Tolerance.KERNEL);
            // the fused residual add + norm against the reference's two ops
            Both d = both(gaussian(4 * h, 1.0), 4, h);
            kernels.addRmsNorm(x.t(), d.t(), ts, 1e-6f, y.t());
            reference.kernels().add(x.r(), d.r(), x.r());
            reference.kernels().rmsNorm(x.r(), scale, 1e-6f, y.r());
            compare("addRmsNorm " + f.name() + " scale: sum", x, Tolerance.KERNEL);
            compare("addRmsNorm " + f.name() + " scale: normed", y, Tolerance.KERNEL);
        }
    }

    private void elementwise() {
        int rows = 3;
        int cols = 101;
        Both a = both(gaussian(rows * cols, 2.0), rows, cols);
        Both b = both(gaussian(rows * cols, 2.0), rows, cols);
        Both o = both(new float[rows * cols], rows, cols);
        kernels.gelu(a.t(), o.t());
        reference.kernels().gelu(a.r(), o.r());
        compare("gelu (tanh)", o, Tolerance.KERNEL);
        kernels.geluMul(a.t(), b.t(), o.t());
        reference.kernels().geluMul(a.r(), b.r(), o.r());
        compare("geluMul", o, Tolerance.KERNEL);
        kernels.mul(a.t(), b.t(), o.t());
        reference.kernels().mul(a.r(), b.r(), o.r());
        compare("mul", o, Tolerance.KERNEL);
        kernels.add(a.t(), b.t(), o.t());
        reference.kernels().add(a.r(), b.r(), o.r());
        compare("add", o, Tolerance.KERNEL);
        kernels.add(a.t(), b.t(), a.t());
        reference.kernels().add(a.r(), b.r(), a.r());
        compare("add in place", a, Tolerance.KERNEL);
    }

    /** {@code spare}: rows of the state beyond the call's batch, random, which the kernel must leave as they are. */
    private void conv1d(int spare) {
        int c = 37;
        int k = 4;
        HostWeight w = dense("conv", gaussian(c * k, 0.5), c, 1, k);
        HostWeight bias = dense("conv bias", gaussian(c, 0.1), c);
        Weight tw = load(w);
        Weight tb = load(bias);
        int batch = 2;
        float[] init = withSpareRows(new float[batch * (k - 1) * c], spare * (k - 1) * c);
        Both state = both(init, batch + spare, (k - 1) * c);
        int[][] calls = {{0, 0, 5}, {5, 5, 1}, {6, 6, 2}, {8, 8, 1}};
        for (int[] call : calls) {
            int len = call[2];
            SeqBatch seq = new SeqBatch(batch, len, new int[] {call[0], call[1]});
            Both x = both(gaussian(batch * len * c, 1.0), batch * len, c);
            Both y = both(new float[batch * len * c], batch * len, c);
            kernels.conv1d(x.t(), seq, tw, tb, state.t(), y.t());
            reference.kernels().conv1d(x.r(), seq, w, bias, state.r(), y.r());
            compare("conv1d " + len + " tokens at " + call[0], y, Tolerance.KERNEL);
            compare("conv1d state after " + len + " tokens at " + call[0], state, Tolerance.KERNEL);
        }
        untouched("conv1d", state, init, batch * (k - 1) * c);
    }

    /** {@code values} followed by {@code spare} random floats. */
    private float[] withSpareRows(float[] values, int spare) {
        float[] out = Arrays.copyOf(values, values.length + spare);
        System.arraycopy(gaussian(spare, 1.0), 0, out, values.length, spare);
        return out;
    }

    /** Checks that the state rows from float {@code from} on (beyond the calls' batch) still hold their initial values. */
    private void untouched(String what, Both state, float[] init, int from) {
        if (from == init.length) {
            return;
        }
        float[] got = new float[init.length];
        tested.download(state.t(), got);
        int changed = Arrays.mismatch(got, from, init.length, init, from, init.length);
        results.add(new CheckResult(what + ": state rows beyond the batch untouched", changed < 0,
                changed < 0 ? 0 : Math.abs(got[from + changed] - init[from + changed]), "exact",
                changed < 0 ? "" : "value " + (from + changed) + " changed from " + init[from + changed] + " to "
                        + got[from + changed]));
    }

    /** {@code calls}: {start of sequence 0, start of sequence 1, tokens}, applied in turn to one state. */
    private void rgLru(int blocks, int bw, int[][] calls, int spare) {
        int r = blocks * bw;
        HostWeight wIn = dense("input gate", gaussian(blocks * bw * bw, 1.0 / Math.sqrt(bw)), blocks, bw, bw);
        HostWeight bIn = dense("input gate bias", gaussian(r, 0.1), blocks, bw);
        HostWeight wRec = dense("recurrent gate", gaussian(blocks * bw * bw, 1.0 / Math.sqrt(bw)), blocks, bw, bw);
        HostWeight bRec = dense("recurrent gate bias", gaussian(r, 0.1), blocks, bw);
        float[] lambda = gaussian(r, 1.0);
        for (int i = 0; i < r; i++) {
            lambda[i] += 2.0f;
        }
        // softplus(Λ) computed once, as the model does at load (its threshold is tested with SoftplusLambda)
        HostWeight param = SoftplusLambda.of(dense("recurrent param", lambda, r), arena);
        RgLruWeights ref = new RgLruWeights(wIn, bIn, wRec, bRec, param, blocks);
        RgLruWeights tst = new RgLruWeights(load(wIn), load(bIn), load(wRec),
                load(bRec), load(param), blocks);
        int batch = 2;
        float[] init = gaussian((batch + spare) * r, 1.0);
        Both state = both(init, batch + spare, r);
        for (int[] call : calls) {
            int len = call[2];
            SeqBatch seq = new SeqBatch(batch, len, new int[] {call[0], call[1]});
            Both x = both(gaussian(batch * len * r, 1.0), batch * len, r);
            Both y = both(new float[batch * len * r], batch * len, r);
            kernels.rgLru(x.t(), seq, tst, state.t(), y.t());
            reference.kernels().rgLru(x.r(), seq, ref, state.r(), y.r());
            String what = "rgLru " + blocks + "x" + bw + ", " + len + " tokens at " + Arrays.toString(seq.startPositions());
            compare(what, y, Tolerance.KERNEL);
            compare(what + ": state", state, Tolerance.KERNEL);
        }
        untouched("rgLru", state, init, batch * r);
    }

    private void rope() {
        int heads = 3;
        int hd = 16;
        SeqBatch seq = new SeqBatch(2, 3, new int[] {0, 3000});
        Both x = both(gaussian(6 * heads * hd, 1.0), 6, heads * hd);
        kernels.rope(x.t(), seq, heads, hd, hd / 2, 10000f);
        reference.kernels().rope(x.r(), seq, heads, hd, hd / 2, 10000f);
        compare("rope (half rotary, positions up to 3002)", x, new Tolerance(1e-4, 1e-4));
    }

    /** {@code ropeQk} against the reference's two {@code rope} calls, q and k compared separately. */
    private void ropeQk(SeqBatch seq, int heads, int kvHeads, int hd, int rot, float theta) {
        int n = seq.rows();
        Both q = both(gaussian(n * heads * hd, 1.0), n, heads * hd);
        Both k = both(gaussian(n * kvHeads * hd, 1.0), n, kvHeads * hd);
        kernels.ropeQk(q.t(), k.t(), seq, heads, kvHeads, hd, rot, theta);
        reference.kernels().rope(q.r(), seq, heads, hd, rot, theta);
        reference.kernels().rope(k.r(), seq, kvHeads, hd, rot, theta);
        String what = "ropeQk " + heads + "/" + kvHeads + " heads of " + hd + " (rotary " + rot + "), " + seq.length()
                + " tokens at " + Arrays.toString(seq.startPositions());
        Tolerance angles = new Tolerance(1e-4, 1e-4); // as rope: sin/cos of angles up to ~3000 rad
        compare(what + ": q", q, angles);
        compare(what + ": k", k, angles);
    }

    private void attention(int window, int prefill, int[] starts, int decodeSteps, int spare) {
        int heads = 4;
        int hd = 16;
        int kvHeads = 1;
        AttentionSpec spec = new AttentionSpec(heads, kvHeads, hd, window);
        int batch = starts.length;
        float[] kInit = gaussian((batch + spare) * spec.cacheCols(), 1.0);
        float[] vInit = gaussian((batch + spare) * spec.cacheCols(), 1.0);
        Both kc = both(kInit, batch + spare, spec.cacheCols());
        Both vc = both(vInit, batch + spare, spec.cacheCols());
        int[] pos = starts.clone();
        String tag = "attention W=" + window + " batch " + batch;
        for (int step = 0; step <= decodeSteps; step++) {
            int len = step == 0 ? prefill : 1;
            SeqBatch seq = new SeqBatch(batch, len, pos);
            int n = batch * len;
            Both q = both(gaussian(n * heads * hd, 1.0), n, heads * hd);
            Both k = both(gaussian(n * kvHeads * hd, 1.0), n, kvHeads * hd);
            Both v = both(gaussian(n * kvHeads * hd, 1.0), n, kvHeads * hd);
            Both o = both(new float[n * heads * hd], n, heads * hd);
            kernels.localAttention(q.t(), k.t(), v.t(), seq, spec, kc.t(), vc.t(), o.t());
            reference.kernels().localAttention(q.r(), k.r(), v.r(), seq, spec, kc.r(), vc.r(), o.r());
            String what = step == 0 ? " prefill " + len + " at " + Arrays.toString(pos) : " decode at " + Arrays.toString(pos);
            compare(tag + what, o, Tolerance.KERNEL);
            compare(tag + what + " key cache", kc, Tolerance.KERNEL);
            compare(tag + what + " value cache", vc, Tolerance.KERNEL);
            for (int b = 0; b < batch; b++) {
                pos[b] += len;
            }
        }
        untouched(tag + " key cache", kc, kInit, batch * spec.cacheCols());
        untouched(tag + " value cache", vc, vInit, batch * spec.cacheCols());
    }

    private void softCapAndSelection() {
        int rows = 3;
        int cols = 1003;
        float[] values = gaussian(rows * cols, 20.0);
        values[5] = values[7] = 1000f; // a tie: the lowest index wins
        Both x = both(values, rows, cols);
        kernels.softCap(x.t(), 30f);
        reference.kernels().softCap(x.r(), 30f);
        compare("softCap 30", x, Tolerance.KERNEL);
        int[] got = new int[rows];
        int[] want = new int[rows];
        kernels.argmax(x.t(), got);
        reference.kernels().argmax(x.r(), want);
        results.add(new CheckResult("argmax", Arrays.equals(got, want), Arrays.equals(got, want) ? 0 : 1, "exact",
                Arrays.toString(got) + " vs " + Arrays.toString(want)));
        int k = 40;
        int[] ids = new int[rows * k];
        int[] wantIds = new int[rows * k];
        float[] vals = new float[rows * k];
        float[] wantVals = new float[rows * k];
        kernels.topK(x.t(), k, ids, vals);
        reference.kernels().topK(x.r(), k, wantIds, wantVals);
        results.add(new CheckResult("topK 40", Arrays.equals(ids, wantIds), Arrays.equals(ids, wantIds) ? 0 : 1, "exact ids",
                ""));
        results.add(Tolerance.KERNEL.compare("topK 40 values", vals, wantVals, vals.length));
        Both rowsCopy = both(gaussian(4 * 9, 1.0), 4, 9);
        kernels.copyRows(x.t(), 1, x.t(), 0, 1);
        reference.kernels().copyRows(x.r(), 1, x.r(), 0, 1);
        compare("copyRows", x, Tolerance.KERNEL);
        kernels.fill(rowsCopy.t(), -0.75f);
        reference.kernels().fill(rowsCopy.r(), -0.75f);
        compare("fill", rowsCopy, Tolerance.KERNEL);
    }
}
