package dev.rg.api.backend;

import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;

/**
 * The argument checks of every {@link Kernels} op, one method per op, written once: every backend calls the op's
 * check first, so a wrong call fails the same clear way everywhere (one line naming the op and the argument)
 * instead of reading out of bounds on a device. A backend adds only the limits of its own kernels (a largest head
 * dimension, say) after it.
 *
 * <p>The checks allocate nothing when the arguments are right (messages are built only to throw): they run on the
 * decode path of every op.
 */
public final class KernelArgs {
    private KernelArgs() {}

    // ------------------------------------------------------------------ one check per op

    /** {@link Kernels#embed}: ids inside the table's rows, {@code out [ids.length, table cols]}. */
    public static void embed(int[] ids, Weight table, Tensor out) {
        int vocab = table.rows();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("embed ids[" + i + "] = " + ids[i] + " is outside the rows [0, " + vocab
                        + ") of table '" + table.name() + "'");
            }
        }
        shape("embed out", out, ids.length, table.cols());
    }

    /** {@link Kernels#matmul}: {@code x [N, in]}, {@code w [out, in]}, {@code bias [out]} or null, {@code out [N, out]}. */
    public static void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
        if (x.cols() != w.cols()) {
            throw new IllegalArgumentException("matmul x has " + x.cols() + " columns but weight '" + w.name() + "' "
                    + w.shape() + " expects " + w.cols());
        }
        if (out.rows() != x.rows() || out.cols() != w.rows()) { // checked first: the message is built only on failure
            shape("matmul out for '" + w.name() + "'", out, x.rows(), w.rows());
        }
        if (bias != null) {
            elements("matmul bias", bias, w.rows());
        }
    }

    /** {@link Kernels#matmulGroup}: as many weights, biases and outputs (at least one), each a {@link #matmul}. */
    public static void matmulGroup(Tensor x, Weight[] weights, Weight[] biases, Tensor[] outs) {
        if (weights.length == 0 || biases.length != weights.length || outs.length != weights.length) {
            throw new IllegalArgumentException("matmulGroup: " + weights.length + " weights, " + biases.length
                    + " biases and " + outs.length + " outputs (must be as many, at least one)");
        }
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] == null || outs[i] == null) {
                throw new IllegalArgumentException("matmulGroup: weight or output " + i + " is null");
            }
            matmul(x, weights[i], biases[i], outs[i]);
        }
    }

    /** {@link Kernels#rmsNorm}: {@code out} shaped like {@code x}, {@code scale} with one element per column. */
    public static void rmsNorm(Tensor x, Weight scale, Tensor out) {
        like("rmsNorm out", out, "x", x);
        elements("rmsNorm scale", scale, x.cols());
    }

    /** {@link Kernels#addRmsNorm}: {@code delta} and {@code normed} shaped like {@code x}, one scale per column. */
    public static void addRmsNorm(Tensor x, Tensor delta, Weight scale, Tensor normed) {
        like("addRmsNorm delta", delta, "x", x);
        like("addRmsNorm normed", normed, "x", x);
        elements("addRmsNorm scale", scale, x.cols());
    }

    /** {@link Kernels#gelu}: {@code out} shaped like {@code x}. */
    public static void gelu(Tensor x, Tensor out) {
        like("gelu out", out, "x", x);
    }

    /** {@link Kernels#geluMul}: {@code up} and {@code out} shaped like {@code gate}. */
    public static void geluMul(Tensor gate, Tensor up, Tensor out) {
        like("geluMul up", up, "gate", gate);
        like("geluMul out", out, "gate", gate);
    }

    /**
     * {@link Kernels#geluMulMatmul}: {@code up} shaped like {@code gate}, {@code gate [N, in]} against {@code w [out, in]},
     * {@code bias [out]} or null, {@code out [N, out]} and a tensor of its own (it must not be {@code gate} or {@code up}).
     */
    public static void geluMulMatmul(Tensor gate, Tensor up, Weight w, Weight bias, Tensor out) {
        like("geluMulMatmul up", up, "gate", gate);
        if (gate.cols() != w.cols()) {
            throw new IllegalArgumentException("geluMulMatmul gate has " + gate.cols() + " columns but weight '" + w.name()
                    + "' " + w.shape() + " expects " + w.cols());
        }
        if (out.rows() != gate.rows() || out.cols() != w.rows()) {
            shape("geluMulMatmul out for '" + w.name() + "'", out, gate.rows(), w.rows());
        }
        if (out == gate || out == up) {
            throw new IllegalArgumentException("geluMulMatmul out must not be " + (out == gate ? "gate" : "up")
                    + " (the matmul reads every column of its input for each output)");
        }
        if (bias != null) {
            elements("geluMulMatmul bias", bias, w.rows());
        }
    }

    /**
     * {@link Kernels#matmulAdd}: a {@link #matmul} of {@code x} into {@code delta}, and {@code residual} shaped like
     * {@code delta}; the three tensors all different ({@code residual} is read and written while {@code x} is read).
     */
    public static void matmulAdd(Tensor x, Weight w, Weight bias, Tensor delta, Tensor residual) {
        matmul(x, w, bias, delta);
        residualOf("matmulAdd", delta, residual, x, "x", null, null);
    }

    /**
     * {@link Kernels#geluMulMatmulAdd}: a {@link #geluMulMatmul} into {@code delta}, and {@code residual} shaped like
     * {@code delta} and none of the other tensors.
     */
    public static void geluMulMatmulAdd(Tensor gate, Tensor up, Weight w, Weight bias, Tensor delta, Tensor residual) {
        geluMulMatmul(gate, up, w, bias, delta);
        residualOf("geluMulMatmulAdd", delta, residual, gate, "gate", up, "up");
    }

    private static void residualOf(String op, Tensor delta, Tensor residual, Tensor a, String aName, Tensor b, String bName) {
        like(op + " residual", residual, "delta", delta);
        if (residual == delta || residual == a || (b != null && residual == b)) {
            throw new IllegalArgumentException(op + " residual must not be " + (residual == delta ? "delta"
                    : residual == a ? aName : bName) + " (it is updated while the others are read)");
        }
    }

    /**
     * {@link Kernels#rmsNormMatmulGroup}: an {@link #rmsNorm} of {@code x} into {@code normed}, then a
     * {@link #matmulGroup} of {@code normed}; no output may be {@code x} or {@code normed}.
     */
    public static void rmsNormMatmulGroup(Tensor x, Weight scale, Tensor normed, Weight[] weights, Weight[] biases,
            Tensor[] outs) {
        rmsNorm(x, scale, normed);
        if (normed == x) {
            throw new IllegalArgumentException("rmsNormMatmulGroup normed must not be x (x is read by every output row)");
        }
        matmulGroup(normed, weights, biases, outs);
        for (Tensor o : outs) {
            if (o == x || o == normed) {
                throw new IllegalArgumentException("rmsNormMatmulGroup: an output is " + (o == x ? "x" : "normed")
                        + " (the matmuls read every column of the input for each output)");
            }
        }
    }

    /** {@link Kernels#mul}: {@code b} and {@code out} shaped like {@code a}. */
    public static void mul(Tensor a, Tensor b, Tensor out) {
        like("mul b", b, "a", a);
        like("mul out", out, "a", a);
    }

    /** {@link Kernels#add}: {@code b} and {@code out} shaped like {@code a}. */
    public static void add(Tensor a, Tensor b, Tensor out) {
        like("add b", b, "a", a);
        like("add out", out, "a", a);
    }

    /**
     * {@link Kernels#conv1d}: {@code x} has the batch's rows, {@code out} its shape; {@code kernel [C, 1, K]} (C*K
     * elements, K >= 1 its last dimension), {@code bias [C]}, {@code state [batch, (K-1)*C]}.
     */
    public static void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
        rows("conv1d x", seq, x);
        like("conv1d out", out, "x", x);
        int c = x.cols();
        long k = kernel.shape().lastDim();
        if (k < 1) {
            throw new IllegalArgumentException("conv1d kernel '" + kernel.name() + "' has width " + k + " (its last dimension,"
                    + " shape " + kernel.shape() + "); at least 1 is needed");
        }
        elements("conv1d kernel", kernel, c * k);
        elements("conv1d bias", bias, c);
        if (state.rows() < seq.batch() || state.cols() != (k - 1) * c) {
            state("conv1d state", state, seq.batch(), Math.toIntExact((k - 1) * c));
        }
    }

    /**
     * {@link Kernels#rgLru}: {@code x} has the batch's rows and the recurrence width R (the length of
     * {@code softplusLambda}) as columns, R split into {@code blocks} equal blocks of width bw; gate weights
     * {@code [blocks, bw, bw]}, gate biases {@code [R]} elements; {@code state [batch, R]}; {@code out} shaped like
     * {@code x}.
     */
    public static void rgLru(Tensor x, SeqBatch seq, RgLruWeights weights, Tensor state, Tensor out) {
        rows("rgLru x", seq, x);
        like("rgLru out", out, "x", x);
        int width = weights.width();
        int blocks = weights.blocks();
        if (blocks < 1 || width % blocks != 0) {
            throw new IllegalArgumentException("rgLru weights: recurrence width " + width + " (softplusLambda '"
                    + weights.softplusLambda().name() + "') does not split into " + blocks + " equal blocks");
        }
        if (x.cols() != width) {
            throw new IllegalArgumentException("rgLru x has " + x.cols() + " columns but the recurrence width (softplusLambda '"
                    + weights.softplusLambda().name() + "') is " + width);
        }
        long bw = width / blocks;
        elements("rgLru inputGateWeight", weights.inputGateWeight(), blocks * bw * bw);
        elements("rgLru recurrentGateWeight", weights.recurrentGateWeight(), blocks * bw * bw);
        elements("rgLru inputGateBias", weights.inputGateBias(), width);
        elements("rgLru recurrentGateBias", weights.recurrentGateBias(), width);
        state("rgLru state", state, seq.batch(), width);
    }

    /**
     * {@link Kernels#rope}: {@code x [batch rows, heads*headDim]}, heads and headDim at least 1, rotaryDim even and
     * in 0..headDim.
     */
    public static void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim) {
        rotary("rope", "x", "heads", x, seq, heads, headDim, rotaryDim);
    }

    /**
     * {@link Kernels#ropeQk}: {@code q [batch rows, heads*headDim]} and {@code k [batch rows, kvHeads*headDim]}, each
     * as {@link #rope} takes it, and two different tensors (one tensor would be rotated twice).
     */
    public static void ropeQk(Tensor q, Tensor k, SeqBatch seq, int heads, int kvHeads, int headDim, int rotaryDim) {
        rotary("ropeQk", "q", "heads", q, seq, heads, headDim, rotaryDim);
        rotary("ropeQk", "k", "kvHeads", k, seq, kvHeads, headDim, rotaryDim);
        if (q == k) {
            throw new IllegalArgumentException("ropeQk q and k are the same tensor (it would be rotated twice)");
        }
    }

    /** The checks of one rotated tensor {@code x} (named {@code name} of op {@code op}) of {@code heads} heads. */
    private static void rotary(String op, String name, String headsName, Tensor x, SeqBatch seq, int heads, int headDim,
            int rotaryDim) {
        if (x.rows() != seq.rows()) {
            rows(op + " " + name, seq, x);
        }
        if (heads < 1 || headDim < 1) {
            throw new IllegalArgumentException(op + " " + headsName + " and headDim must be >= 1, got " + headsName + "=" + heads
                    + " headDim=" + headDim);
        }
        if (rotaryDim < 0 || rotaryDim % 2 != 0 || rotaryDim > headDim) {
            throw new IllegalArgumentException(op + " rotaryDim must be even and in 0.." + headDim + " (headDim), got "
                    + rotaryDim);
        }
        if ((long) heads * headDim != x.cols()) {
            throw new IllegalArgumentException(op + " " + name + " has " + x.cols() + " columns but " + heads + " " + headsName
                    + " of " + headDim + " need " + (long) heads * headDim);
        }
    }

    /**
     * {@link Kernels#localAttention}: {@code q, out [N, heads*headDim]}, {@code k, v [N, kvHeads*headDim]} with N the
     * batch's rows, caches {@code [batch, window*kvHeads*headDim]}.
     */
    public static void localAttention(Tensor q, Tensor k, Tensor v, SeqBatch seq, AttentionSpec spec, Tensor keyCache,
            Tensor valueCache, Tensor out) {
        int n = seq.rows();
        int qCols = spec.heads() * spec.headDim();
        int kvCols = spec.kvHeads() * spec.headDim();
        shape("localAttention q", q, n, qCols);
        shape("localAttention out", out, n, qCols);
        shape("localAttention k", k, n, kvCols);
        shape("localAttention v", v, n, kvCols);
        state("localAttention keyCache", keyCache, seq.batch(), spec.cacheCols());
        state("localAttention valueCache", valueCache, seq.batch(), spec.cacheCols());
    }

    /** {@link Kernels#softCap}: a positive, finite cap (0 would divide by zero, a NaN cap would poison every logit). */
    public static void softCap(Tensor x, float cap) {
        if (!(cap > 0f) || Float.isInfinite(cap)) {
            throw new IllegalArgumentException("softCap cap must be positive and finite, got " + cap + " (for a "
                    + x.rows() + "x" + x.cols() + " tensor)");
        }
    }

    /** {@link Kernels#copyRows}: same columns, both row ranges inside their tensors, rows >= 0. */
    public static void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        if (src.cols() != dst.cols()) {
            throw new IllegalArgumentException("copyRows dst has " + dst.cols() + " columns but src has " + src.cols());
        }
        if (rows < 0 || srcRow < 0 || dstRow < 0 || (long) srcRow + rows > src.rows() || (long) dstRow + rows > dst.rows()) {
            throw new IllegalArgumentException("copyRows rows=" + rows + " from srcRow=" + srcRow + " of src " + src.rows() + "x"
                    + src.cols() + " to dstRow=" + dstRow + " of dst " + dst.rows() + "x" + dst.cols() + ": outside a tensor");
        }
    }

    /** {@link Kernels#argmax}: rows of at least one column, {@code dst} with a slot per row. */
    public static void argmax(Tensor x, int[] dst) {
        if (x.cols() < 1) {
            throw new IllegalArgumentException("argmax x has rows without columns (" + x.rows() + "x" + x.cols() + ")");
        }
        if (dst.length < x.rows()) {
            throw new IllegalArgumentException("argmax dst holds " + dst.length + " ids but x has " + x.rows() + " rows");
        }
    }

    /** {@link Kernels#topK}: k in 1..columns, {@code ids} and {@code values} with k slots per row. */
    public static void topK(Tensor x, int k, int[] ids, float[] values) {
        if (k < 1 || k > x.cols()) {
            throw new IllegalArgumentException("topK k must be in 1.." + x.cols() + " (the columns of x), got " + k);
        }
        long need = (long) x.rows() * k;
        if (ids.length < need) {
            throw new IllegalArgumentException("topK ids holds " + ids.length + " but " + x.rows() + " rows x k=" + k + " need " + need);
        }
        if (values.length < need) {
            throw new IllegalArgumentException("topK values holds " + values.length + " but " + x.rows() + " rows x k=" + k
                    + " need " + need);
        }
    }

    // ------------------------------------------------------------------ building blocks (also for a backend's own limits)

    /** Fails unless {@code t} is {@code rows x cols}; {@code what} names the op and argument, e.g. {@code "rgLru state"}. */
    public static void shape(String what, Tensor t, int rows, int cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(what + " must be " + rows + "x" + cols + " but is " + t.rows() + "x" + t.cols());
        }
    }

    /**
     * Fails unless the state tensor {@code t} has {@code cols} columns and at least {@code batch} rows: a kernel
     * reads and writes the first {@code batch} rows (one per sequence of the call) and leaves the others
     * untouched, so a state allocated for more sequences can be advanced for a prefix of them.
     */
    public static void state(String what, Tensor t, int batch, int cols) {
        if (t.rows() < batch || t.cols() != cols) {
            throw new IllegalArgumentException(what + " must have at least " + batch + " rows of " + cols + " but is "
                    + t.rows() + "x" + t.cols());
        }
    }

    /** Fails unless {@code t} (named {@code what}) has the shape of {@code ref} (named {@code refName}). */
    public static void like(String what, Tensor t, String refName, Tensor ref) {
        if (t.rows() != ref.rows() || t.cols() != ref.cols()) {
            throw new IllegalArgumentException(what + " must be " + ref.rows() + "x" + ref.cols() + " like " + refName + " but is "
                    + t.rows() + "x" + t.cols());
        }
    }

    /** Fails unless the weight has {@code count} elements in all. */
    public static void elements(String what, Weight w, long count) {
        if (w.shape().elementCount() != count) {
            throw new IllegalArgumentException(what + " '" + w.name() + "' must have " + count + " elements but has shape "
                    + w.shape());
        }
    }

    /** Fails unless {@code seq} describes exactly the rows of {@code t} (named {@code what}). */
    public static void rows(String what, SeqBatch seq, Tensor t) {
        if (t.rows() != seq.rows()) {
            throw new IllegalArgumentException(what + " has " + t.rows() + " rows but the batch describes " + seq.rows() + " ("
                    + seq.batch() + " x " + seq.length() + ")");
        }
    }

    /** Checks token ids against the vocabulary size. */
    public static void ids(int[] ids, int vocab) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("token id " + ids[i] + " at index " + i + " is outside the vocabulary [0, "
                        + vocab + ")");
            }
        }
    }
}
