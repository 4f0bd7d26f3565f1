package dev.rg.backend.cuda.device;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.KernelArgs;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The launch logic of every kernel, shared by the CUDA backend and its OpenCL test double: shape checks (the
 * SPI's {@link KernelArgs}, plus the limits of the kernels), grid and block sizes, and argument lists. Only the
 * {@link KernelLauncher} underneath differs, so a run on OpenCL exercises exactly what the CUDA backend launches.
 *
 * <p>What crosses the host/device boundary per call: token ids ({@link #embed}), start positions (uploaded once
 * per distinct batch, i.e. once per forward step, and reused by every later op of that step), rotary inverse
 * frequencies (once per (rotaryDim, theta)), and the ids/values that {@link #argmax}/{@link #topK} return.
 */
public final class DeviceKernels implements Kernels, AutoCloseable {
    /**
     * Activation rows above which a matmul uses the tiled prefill kernel instead of the matvec: up to this many rows
     * (a decode batch of 16) the matvec reads every weight once per {@value #MATVEC_ROWS_PER_PASS} rows, which is
     * cheaper than the tiled kernel's float32 arithmetic until the batch is large enough to be compute-bound.
     */
    public static final int MATVEC_MAX_ROWS = 16;
    /** Rows a matvec launch handles at once (MV_MAXN in the kernels). */
    static final int MATVEC_ROWS_PER_PASS = 8;
    /** Weight rows per matvec block (MV_ROWS) and its threads (MV_THREADS). */
    static final int MATVEC_ROWS_PER_BLOCK = 8;
    static final int MATVEC_THREADS = 256;
    /** Most weights one grouped matvec launch takes (rg_matvec_group_*: q, k and v are the largest group). */
    static final int MATVEC_GROUP_PARTS = 3;
    static final int TILE = 64;
    /** Weight rows and tokens per block of the tensor-core matmul (MMA_BM, MMA_BN). */
    static final int MMA_ROWS = 128;
    static final int MMA_TOKENS = 64;
    /** Columns per k step of the tensor-core matmuls (MMA_BK): also the int8 scale block they take. */
    static final int MMA_DEPTH = 32;
    /**
     * bf16 matmuls of more than {@link #MATVEC_MAX_ROWS} rows run on tensor cores (split hi/lo activations, see
     * rg_matmul_mma_bf16); {@code -Drg.cuda.tensorCores=false} sends them to the float32 tiled kernel instead, for
     * comparisons.
     */
    static final boolean TENSOR_CORES = !"false".equals(System.getProperty("rg.cuda.tensorCores"));
    static final int CONV_MAX_WIDTH = 8;
    static final int LRU_MAX_BLOCK_WIDTH = 1024;
    /** Shared-memory floats that stage the gate kernel's activation rows, and the most rows it takes (RG_LRU_*). */
    static final int LRU_STAGE_FLOATS = 8192;
    static final int LRU_MAX_ROWS = 16;
    /** Calls with at most this many rows split the gates' inner dimension over several blocks (decode). */
    static final int LRU_SPLIT_MAX_ROWS = 16;
    static final int ATTENTION_THREADS = 128;
    static final int ATTENTION_MAX_HEAD_DIM = 512;
    static final int ELEMENTWISE_BLOCKS = 4096;
    /** Epilogue flags of every matmul kernel (RG_EPI_* in the kernels): add the bias; add the result into the output. */
    static final int EPILOGUE_BIAS = 1;
    static final int EPILOGUE_ADD = 2;

    private final DeviceBackend backend;
    private final KernelLauncher l;
    private final Map<Long, DeviceBuffer> inverseFrequencies = new HashMap<>();
    private DeviceBuffer dummy;
    private DeviceBuffer idBuffer;
    private final StartPositions starts;
    private DeviceBuffer outInts;
    private DeviceBuffer outFloats;
    private DeviceBuffer lruPartial;
    private DeviceBuffer attentionPartial;
    private boolean inGroup;
    /** See {@link #fusesNormsIntoMatmuls}. */
    private boolean normsInMatmuls = true;

    DeviceKernels(DeviceBackend backend) {
        this.backend = backend;
        this.l = backend.launcher();
        this.starts = new StartPositions(l);
    }

    // ------------------------------------------------------------------ helpers

    private DeviceTensor t(Tensor t) {
        return backend.tensor(t);
    }

    private DeviceWeight w(Weight w) {
        return backend.weight(w);
    }

    /** A dense weight (small ops take only f32/bf16/f16). */
    private DeviceWeight dense(Weight w, String what) {
        DeviceWeight d = w(w);
        if (!d.codec().dense()) {
            throw new IllegalArgumentException(what + " '" + w.name() + "' must be dense (f32, bf16, f16) but is "
                    + w.format().name());
        }
        return d;
    }

    private Span dummy() {
        if (dummy == null || dummy.isFreed()) {
            dummy = l.allocate(16);
            l.fill32(dummy, 0);
        }
        return new Span(dummy, 16);
    }

    /** A scratch buffer of at least {@code bytes}, reallocated when too small. */
    private DeviceBuffer grow(DeviceBuffer b, long bytes) {
        return grow(l, b, bytes);
    }

    /** {@code b} if it is live and holds {@code bytes}, else a new buffer of the next power of two (at least 256). */
    static DeviceBuffer grow(KernelLauncher l, DeviceBuffer b, long bytes) {
        if (b != null && !b.isFreed() && b.bytes() >= bytes) {
            return b;
        }
        if (b != null) {
            l.free(b);
        }
        return l.allocate(Math.max(256, Long.highestOneBit(Math.max(1, bytes - 1)) << 1));
    }

    private Span ids(int[] ids) {
        idBuffer = grow(idBuffer, ids.length * 4L);
        l.write(MemorySegment.ofArray(ids), idBuffer, 0);
        return new Span(idBuffer, ids.length * 4L);
    }

    /** The batch's start positions on the device, uploaded only when no buffer holds them ({@link StartPositions}). */
    private Span starts(SeqBatch seq) {
        return starts.forOp(seq.startPositions());
    }

    private static long floats(long n) {
        return n * 4;
    }

    private static int ceil(long a, long b) {
        return Math.toIntExact((a + b - 1) / b);
    }

    // ------------------------------------------------------------------ kernels

    @Override
    public void embed(int[] ids, Weight table, float scale, Tensor out) {
        synchronized (l) {
            KernelArgs.embed(ids, table, out);
            DeviceWeight tw = w(table);
            DeviceTensor o = t(out);
            if (ids.length == 0 || tw.cols() == 0) {
                return;
            }
            WeightCodec c = tw.codec();
            long n = (long) ids.length * tw.cols();
            l.launch(Kernel.EMBED, Launch.gridStride(n, 256, ELEMENTWISE_BLOCKS), ids(ids), ids.length, tw.cols(), c.fmt(),
                    tw.data(), tw.aux(), c.auxFmt(), tw.codebook(), c.blockSize(), scale, o.span());
        }
    }

    /**
     * The group's launches are held by the launcher and, when the same list recurs (the same layer at the same batch
     * size, step after step), enqueued as one recorded graph: see {@link KernelLauncher#endGroup}. Only with the
     * backend option {@code graphs=on}; otherwise the ops just run.
     */
    @Override
    public void group(Runnable ops) {
        synchronized (l) {
            if (inGroup) { // groups do not nest: an inner one is part of the outer
                ops.run();
                return;
            }
            inGroup = true;
            l.beginGroup();
            try {
                ops.run();
            } catch (RuntimeException | Error e) {
                l.abandonGroup();
                throw e;
            } finally {
                inGroup = false;
            }
            l.endGroup();
        }
    }

    /** Uploads the positions now (they change every decode step), so that no group has to. */
    @Override
    public void stepInputs(SeqBatch seq) {
        synchronized (l) {
            starts.forStep(seq.startPositions());
        }
    }

    /** See {@link DeviceBackend#FUSED_NORMS}: on unless that setting is off. */
    void fuseNormsIntoMatmuls(boolean on) {
        normsInMatmuls = on;
    }

    /**
     * True (unless the backend setting {@code fused-norms=off}): the residual add goes into the output projection's
     * epilogue and the norm into the next group's staging ({@link #matmulAdd}, {@link #geluMulMatmulAdd},
     * {@link #rmsNormMatmulGroup}), so a decode layer is 7 launches instead of 9.
     */
    @Override
    public boolean fusesNormsIntoMatmuls() {
        return normsInMatmuls;
    }

    /** The epilogue flags of a matmul kernel: the bias when there is one, the add into the output when asked. */
    private static int epilogue(DeviceWeight bias, boolean add) {
        return (bias == null ? 0 : EPILOGUE_BIAS) | (add ? EPILOGUE_ADD : 0);
    }

    @Override
    public void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
        synchronized (l) {
            KernelArgs.matmul(x, w, bias, out);
            matmulInto(x, w, bias, out, false);
        }
    }

    /** {@code residual += x @ w^T + bias} in the epilogue of whichever matmul kernel runs ({@code delta} is not used). */
    @Override
    public void matmulAdd(Tensor x, Weight w, Weight bias, Tensor delta, Tensor residual) {
        synchronized (l) {
            KernelArgs.matmulAdd(x, w, bias, delta, residual);
            matmulInto(x, w, bias, residual, true);
        }
    }

    /**
     * {@code out = x @ w^T + bias}, or with {@code add} {@code out += x @ w^T + bias}: the matvec up to
     * {@link #MATVEC_MAX_ROWS} rows, else the tensor-core (bf16) or the tiled kernel. Arguments already checked.
     */
    private void matmulInto(Tensor x, Weight w, Weight bias, Tensor out, boolean add) {
        DeviceTensor xt = t(x);
        DeviceTensor ot = t(out);
        DeviceWeight dw = w(w);
        DeviceWeight db = bias == null ? null : dense(bias, "matmul bias");
        int n = x.rows();
        int in = x.cols();
        int outDim = w.rows();
        if (n == 0 || outDim == 0) {
            return;
        }
        Span b = db == null ? dummy() : db.data();
        int bFmt = db == null ? 0 : db.codec().fmt();
        int epilogue = epilogue(db, add);
        WeightCodec c = dw.codec();
        Launch mma = new Launch(ceil(outDim, MMA_ROWS), ceil(n, MMA_TOKENS), 256);
        if (n <= MATVEC_MAX_ROWS) {
            matvecPasses(matvecKernel(c, Kernel.MATVEC_F32, Kernel.MATVEC_BF16, Kernel.MATVEC_F16, Kernel.MATVEC_I8,
                    Kernel.MATVEC_Q4), new Span[] {xt.span()}, n, in, dw, b, bFmt, epilogue, ot.span());
        } else if (c.dense() && in % 8 == 0 && TENSOR_CORES) {
            // f16 weights are split into two bf16 parts (exactly), f32 weights and their activations into three
            Kernel k = switch (c.fmt()) {
                case WeightCodec.BF16 -> Kernel.MATMUL_MMA_BF16;
                case WeightCodec.F16 -> Kernel.MATMUL_MMA_F16;
                default -> Kernel.MATMUL_MMA_F32;
            };
            l.launch(k, mma, xt.span(), n, in, outDim, dw.data(), b, bFmt, epilogue, ot.span());
        } else if (c.fmt() == WeightCodec.I8 && c.blockSize() == MMA_DEPTH && in % MMA_DEPTH == 0 && TENSOR_CORES) {
            // one k step per scale block: the codes are bf16 values exactly, the scale multiplies each step's sums
            l.launch(Kernel.MATMUL_MMA_I8, mma, xt.span(), n, in, outDim, dw.data(), dw.aux(), c.auxFmt(), b, bFmt, epilogue,
                    ot.span());
        } else if (c.fmt() == WeightCodec.Q4 && c.blockSize() % MMA_DEPTH == 0 && in % c.blockSize() == 0 && TENSOR_CORES) {
            // every k step inside one absmax block of one row: weights dequantised and split into bf16 hi and lo
            l.launch(Kernel.MATMUL_MMA_Q4, mma, xt.span(), n, in, outDim, dw.data(), dw.aux(), dw.codebook(), c.blockSize(), b,
                    bFmt, epilogue, ot.span());
        } else {
            l.launch(Kernel.MATMUL_TILED, new Launch(ceil(outDim, TILE), ceil(n, TILE), 256), xt.span(), n, in, outDim,
                    c.fmt(), dw.data(), dw.aux(), c.auxFmt(), dw.codebook(), c.blockSize(), b, bFmt, epilogue, ot.span());
        }
    }

    /** The kernel of a weight's format among the five variants of a matvec kernel (f32, bf16, f16, int8, 4-bit). */
    private static Kernel matvecKernel(WeightCodec c, Kernel f32, Kernel bf16, Kernel f16, Kernel i8, Kernel q4) {
        return switch (c.fmt()) {
            case WeightCodec.F32 -> f32;
            case WeightCodec.BF16 -> bf16;
            case WeightCodec.F16 -> f16;
            case WeightCodec.I8 -> i8;
            case WeightCodec.Q4 -> q4;
            default -> throw new IllegalStateException("format code " + c.fmt());
        };
    }

    /**
     * A matvec kernel over {@code n <= MATVEC_MAX_ROWS} activation rows, {@value #MATVEC_ROWS_PER_PASS} per launch:
     * {@code inputs} (x, or gate and up), the pass's first row and row count, the input width, then the weight's
     * arguments in the kernels' order (rows, data, for int8 the scales, their format and block size, for 4-bit the
     * absmax, the code book and block size), the bias, the epilogue flags and the output.
     */
    private void matvecPasses(Kernel kernel, Span[] inputs, int n, int in, DeviceWeight dw, Span bias, int bFmt,
            int epilogue, Span out) {
        WeightCodec c = dw.codec();
        int outDim = dw.rows();
        Launch g = new Launch(ceil(outDim, MATVEC_ROWS_PER_BLOCK), 1, MATVEC_THREADS);
        for (int row0 = 0; row0 < n; row0 += MATVEC_ROWS_PER_PASS) {
            int rows = Math.min(MATVEC_ROWS_PER_PASS, n - row0);
            Object[] args = new Object[kernel.signature().length()];
            int a = 0;
            for (Span s : inputs) {
                args[a++] = s;
            }
            args[a++] = row0;
            args[a++] = rows;
            args[a++] = in;
            args[a++] = outDim;
            args[a++] = dw.data();
            if (c.fmt() == WeightCodec.I8) {
                args[a++] = dw.aux();
                args[a++] = c.auxFmt();
                args[a++] = c.blockSize();
            } else if (c.fmt() == WeightCodec.Q4) {
                args[a++] = dw.aux();
                args[a++] = dw.codebook();
                args[a++] = c.blockSize();
            }
            args[a++] = bias;
            args[a++] = bFmt;
            args[a++] = epilogue;
            args[a] = out;
            l.launch(kernel, g, args);
        }
    }

    /** Whether the group kernels can take these weights together: one kernel format (scales and code book included). */
    private boolean oneMatvecFormat(Weight[] weights) {
        WeightCodec c0 = w(weights[0]).codec();
        for (int i = 1; i < weights.length; i++) {
            WeightCodec c = w(weights[i]).codec();
            if (c.fmt() != c0.fmt() || c.auxFmt() != c0.auxFmt() || c.blockSize() != c0.blockSize()
                    || !Arrays.equals(c.codebook(), c0.codebook())) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@link #groupPasses} takes this group: decode rows, at most 3 weights, one kernel format. */
    private boolean oneGroupLaunch(Tensor x, Weight[] weights) {
        return x.rows() <= MATVEC_MAX_ROWS && weights.length <= MATVEC_GROUP_PARTS && oneMatvecFormat(weights);
    }

    /**
     * Decode shapes ({@code x} of at most {@link #MATVEC_MAX_ROWS} rows) with up to {@value #MATVEC_GROUP_PARTS} weights
     * of one format: one grouped matvec launch per pass of {@value #MATVEC_ROWS_PER_PASS} rows, its grid the parts'
     * blocks one after another. Anything else (prefill, mixed formats, more parts) runs one {@link #matmul} per weight.
     */
    @Override
    public void matmulGroup(Tensor x, Weight[] weights, Weight[] biases, Tensor[] outs) {
        synchronized (l) {
            KernelArgs.matmulGroup(x, weights, biases, outs);
            if (!oneGroupLaunch(x, weights)) {
                for (int i = 0; i < weights.length; i++) {
                    matmulInto(x, weights[i], biases[i], outs[i], false);
                }
                return;
            }
            groupPasses(x, null, 0f, weights, biases, outs);
        }
    }

    /**
     * Decode shapes that {@link #matmulGroup} runs as one launch: the group kernel whose blocks stage rmsNorm(x) in
     * shared memory (bit for bit what {@link #rmsNorm} writes), so no norm launch and no pass over {@code normed}.
     * Anything else: {@link #rmsNorm} into {@code normed}, then {@link #matmulGroup}.
     */
    @Override
    public void rmsNormMatmulGroup(Tensor x, Weight scale, float eps, Tensor normed, Weight[] weights, Weight[] biases,
            Tensor[] outs) {
        synchronized (l) {
            KernelArgs.rmsNormMatmulGroup(x, scale, normed, weights, biases, outs);
            if (!oneGroupLaunch(x, weights)) {
                rmsNorm(x, scale, eps, normed);
                matmulGroup(normed, weights, biases, outs);
                return;
            }
            groupPasses(x, dense(scale, "rmsNormMatmulGroup scale"), eps, weights, biases, outs);
        }
    }

    /**
     * One grouped matvec launch per pass of {@value #MATVEC_ROWS_PER_PASS} rows (the caller checked
     * {@link #oneGroupLaunch}); with a {@code norm} scale, the kernel that normalises x while staging it.
     */
    private void groupPasses(Tensor x, DeviceWeight norm, float eps, Weight[] weights, Weight[] biases, Tensor[] outs) {
        int n = x.rows();
        int blocks = 0;
        for (Weight w : weights) {
            blocks += ceil(w.rows(), MATVEC_ROWS_PER_BLOCK);
        }
        if (n == 0 || blocks == 0) {
            return;
        }
        DeviceTensor xt = t(x);
        DeviceWeight first = w(weights[0]);
        WeightCodec c = first.codec();
        Kernel kernel = norm == null
                ? matvecKernel(c, Kernel.MATVEC_GROUP_F32, Kernel.MATVEC_GROUP_BF16, Kernel.MATVEC_GROUP_F16,
                        Kernel.MATVEC_GROUP_I8, Kernel.MATVEC_GROUP_Q4)
                : matvecKernel(c, Kernel.MATVEC_GROUP_NORM_F32, Kernel.MATVEC_GROUP_NORM_BF16, Kernel.MATVEC_GROUP_NORM_F16,
                        Kernel.MATVEC_GROUP_NORM_I8, Kernel.MATVEC_GROUP_NORM_Q4);
        boolean scaled = c.fmt() == WeightCodec.I8 || c.fmt() == WeightCodec.Q4;
        Launch g = new Launch(blocks, 1, MATVEC_THREADS);
        for (int row0 = 0; row0 < n; row0 += MATVEC_ROWS_PER_PASS) {
            Object[] args = new Object[kernel.signature().length()];
            int a = 0;
            args[a++] = xt.span();
            args[a++] = row0;
            args[a++] = Math.min(MATVEC_ROWS_PER_PASS, n - row0);
            args[a++] = x.cols();
            if (norm != null) {
                args[a++] = norm.data();
                args[a++] = norm.codec().fmt();
                args[a++] = eps;
            }
            if (c.fmt() == WeightCodec.I8) {
                args[a++] = c.auxFmt();
                args[a++] = c.blockSize();
            } else if (c.fmt() == WeightCodec.Q4) {
                args[a++] = first.codebook();
                args[a++] = c.blockSize();
            }
            for (int p = 0; p < MATVEC_GROUP_PARTS; p++) {
                if (p < weights.length) {
                    DeviceWeight dw = w(weights[p]);
                    DeviceWeight db = biases[p] == null ? null : dense(biases[p], "matmulGroup bias");
                    args[a++] = dw.rows();
                    args[a++] = dw.data();
                    if (scaled) {
                        args[a++] = dw.aux();
                    }
                    args[a++] = db == null ? dummy() : db.data();
                    args[a++] = db == null ? 0 : db.codec().fmt();
                    args[a++] = epilogue(db, false);
                    args[a++] = t(outs[p]).span();
                } else { // an absent part: no blocks, never read
                    args[a++] = 0;
                    args[a++] = dummy();
                    if (scaled) {
                        args[a++] = dummy();
                    }
                    args[a++] = dummy();
                    args[a++] = 0;
                    args[a++] = 0;
                    args[a++] = dummy();
                }
            }
            l.launch(kernel, g, args);
        }
    }

    /**
     * Decode shapes: one matvec launch per pass whose blocks stage {@code gelu(gate) * up} in shared memory and multiply
     * it with the weight ({@code gate} is left as it is). Prefill (more than {@link #MATVEC_MAX_ROWS} rows):
     * {@link #geluMul} into {@code gate} and then the matmul (the tiled and tensor-core kernels).
     */
    @Override
    public void geluMulMatmul(Tensor gate, Tensor up, Weight w, Weight bias, Tensor out) {
        synchronized (l) {
            KernelArgs.geluMulMatmul(gate, up, w, bias, out);
            geluMulMatmulInto(gate, up, w, bias, out, false);
        }
    }

    /** {@link #geluMulMatmul} added into {@code residual} in the matmul's epilogue ({@code delta} is not used). */
    @Override
    public void geluMulMatmulAdd(Tensor gate, Tensor up, Weight w, Weight bias, Tensor delta, Tensor residual) {
        synchronized (l) {
            KernelArgs.geluMulMatmulAdd(gate, up, w, bias, delta, residual);
            geluMulMatmulInto(gate, up, w, bias, residual, true);
        }
    }

    private void geluMulMatmulInto(Tensor gate, Tensor up, Weight w, Weight bias, Tensor out, boolean add) {
        int n = gate.rows();
        if (n > MATVEC_MAX_ROWS) {
            geluMul(gate, up, gate);
            matmulInto(gate, w, bias, out, add);
            return;
        }
        DeviceWeight dw = w(w);
        DeviceWeight db = bias == null ? null : dense(bias, "geluMulMatmul bias");
        if (n == 0 || w.rows() == 0) {
            return;
        }
        matvecPasses(matvecKernel(dw.codec(), Kernel.MATVEC_GELU_F32, Kernel.MATVEC_GELU_BF16, Kernel.MATVEC_GELU_F16,
                Kernel.MATVEC_GELU_I8, Kernel.MATVEC_GELU_Q4), new Span[] {t(gate).span(), t(up).span()}, n,
                gate.cols(), dw, db == null ? dummy() : db.data(), db == null ? 0 : db.codec().fmt(), epilogue(db, add),
                t(out).span());
    }

    @Override
    public void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
        synchronized (l) {
            KernelArgs.rmsNorm(x, scale, out);
            DeviceWeight s = dense(scale, "rmsNorm scale");
            if (x.rows() == 0) {
                return;
            }
            l.launch(Kernel.RMSNORM, new Launch(x.rows(), 1, 256), t(x).span(), x.cols(), s.data(), s.codec().fmt(), eps,
                    t(out).span());
        }
    }

    @Override
    public void addRmsNorm(Tensor x, Tensor delta, Weight scale, float eps, Tensor normed) {
        synchronized (l) {
            KernelArgs.addRmsNorm(x, delta, scale, normed);
            DeviceWeight s = dense(scale, "addRmsNorm scale");
            if (x.rows() == 0) {
                return;
            }
            l.launch(Kernel.ADD_RMSNORM, new Launch(x.rows(), 1, 256), t(x).span(), t(delta).span(), x.cols(), s.data(),
                    s.codec().fmt(), eps, t(normed).span());
        }
    }

    private void elementwise(Kernel k, long n, Object... args) {
        if (n > 0) {
            l.launch(k, Launch.gridStride(n, 256, ELEMENTWISE_BLOCKS), args);
        }
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        synchronized (l) {
            KernelArgs.gelu(x, out);
            elementwise(Kernel.GELU_KERNEL, x.size(), t(x).span(), x.size(), t(out).span());
        }
    }

    @Override
    public void geluMul(Tensor gate, Tensor up, Tensor out) {
        synchronized (l) {
            KernelArgs.geluMul(gate, up, out);
            elementwise(Kernel.GELU_MUL, gate.size(), t(gate).span(), t(up).span(), gate.size(), t(out).span());
        }
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        synchronized (l) {
            KernelArgs.mul(a, b, out);
            elementwise(Kernel.MUL, a.size(), t(a).span(), t(b).span(), a.size(), t(out).span());
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        synchronized (l) {
            KernelArgs.add(a, b, out);
            elementwise(Kernel.ADD, a.size(), t(a).span(), t(b).span(), a.size(), t(out).span());
        }
    }

    @Override
    public void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
        synchronized (l) {
            KernelArgs.conv1d(x, seq, kernel, bias, state, out);
            int c = x.cols();
            int k = Math.toIntExact(kernel.shape().lastDim());
            if (k > CONV_MAX_WIDTH) {
                throw new IllegalArgumentException("conv1d: width " + k + " outside 1.." + CONV_MAX_WIDTH + " (the kernel keeps"
                        + " the history in registers)");
            }
            DeviceWeight kw = dense(kernel, "conv1d kernel");
            DeviceWeight bw = dense(bias, "conv1d bias");
            if (c == 0) {
                return;
            }
            l.launch(Kernel.CONV1D, Launch.cover((long) seq.batch() * c, 256), t(x).span(), seq.batch(), seq.length(), c, k,
                    kw.data(), kw.codec().fmt(), bw.data(), bw.codec().fmt(), t(state).span(), t(out).span());
        }
    }

    @Override
    public void rgLru(Tensor x, SeqBatch seq, RgLruWeights weights, Tensor state, Tensor out) {
        synchronized (l) {
            KernelArgs.rgLru(x, seq, weights, state, out);
            int width = weights.width();
            int blocks = weights.blocks();
            int bw = weights.blockWidth();
            if (bw > LRU_MAX_BLOCK_WIDTH) {
                throw new IllegalArgumentException("rgLru: block width " + bw + " above " + LRU_MAX_BLOCK_WIDTH
                        + " (one thread per channel of a gate block)");
            }
            DeviceWeight wIn = dense(weights.inputGateWeight(), "input gate weight");
            DeviceWeight bIn = dense(weights.inputGateBias(), "input gate bias");
            DeviceWeight wRec = dense(weights.recurrentGateWeight(), "recurrent gate weight");
            DeviceWeight bRec = dense(weights.recurrentGateBias(), "recurrent gate bias");
            DeviceWeight decay = dense(weights.softplusLambda(), "rgLru softplusLambda");
            if (width == 0) {
                return;
            }
            // gates first, on the whole GPU (split over the inner dimension when the call has few rows), then the
            // scan, parallel over sequences x channels
            int rows = x.rows();
            int parts = rows <= LRU_SPLIT_MAX_ROWS ? Math.max(1, Math.min(16, bw / 16)) : 1;
            int span = ceil(bw, parts);
            int rowsPer = Math.max(1, Math.min(LRU_MAX_ROWS, LRU_STAGE_FLOATS / span));
            long partialBytes = floats((long) parts * rows * 2 * width);
            lruPartial = grow(lruPartial, partialBytes);
            Span partial = new Span(lruPartial, partialBytes);
            l.launch(Kernel.LRU_GATES, new Launch(blocks * parts, ceil(rows, rowsPer), (bw + 31) / 32 * 32), t(x).span(), rows,
                    width, bw, parts, rowsPer, wIn.data(), wIn.codec().fmt(), wRec.data(), wRec.codec().fmt(), partial);
            l.launch(Kernel.LRU_SCAN, Launch.cover((long) seq.batch() * width, 256), t(x).span(), starts(seq), seq.batch(),
                    seq.length(), width, parts, partial, bIn.data(), bIn.codec().fmt(), bRec.data(), bRec.codec().fmt(),
                    decay.data(), decay.codec().fmt(), t(state).span(), t(out).span());
        }
    }

    /**
     * Key slices of a decode step's attention: about 16 slices of at least 16 keys (at most ATT_SPLIT_KEYS = 256) over
     * the W + 1 keys a query sees, e.g. 16 slices of 129 keys for W = 2048; small windows get one or two.
     */
    static int attentionSplits(int window) {
        long keys = (long) window + 1;
        long slice = Math.max(16, (keys + 15) / 16);
        return (int) ((keys + slice - 1) / slice);
    }

    /** inv_freq[j] = 1 / theta^(2j / rotaryDim) in float32, rounded exactly as the reference does. */
    static float[] inverseFrequencies(int rotaryDim, float theta) {
        float[] f = new float[rotaryDim / 2];
        for (int j = 0; j < f.length; j++) {
            float exponent = (float) (2 * j) / rotaryDim;
            f[j] = (float) (1.0 / (float) Math.pow(theta, exponent));
        }
        return f;
    }

    /** The rotary inverse frequencies of (rotaryDim, theta) on the device, uploaded the first time they are used. */
    private Span inverseFrequencySpan(int rotaryDim, float theta) {
        int half = rotaryDim / 2;
        long key = ((long) rotaryDim << 32) | (Float.floatToRawIntBits(theta) & 0xFFFFFFFFL);
        DeviceBuffer freq = inverseFrequencies.get(key);
        if (freq == null || freq.isFreed()) {
            freq = l.allocate(half * 4L);
            l.write(MemorySegment.ofArray(inverseFrequencies(rotaryDim, theta)), freq, 0);
            inverseFrequencies.put(key, freq);
        }
        return new Span(freq, half * 4L);
    }

    @Override
    public void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
        synchronized (l) {
            KernelArgs.rope(x, seq, heads, headDim, rotaryDim);
            int half = rotaryDim / 2;
            if (half == 0 || x.rows() == 0) {
                return;
            }
            l.launch(Kernel.ROPE, Launch.cover((long) x.rows() * heads * half, 256), t(x).span(), starts(seq), x.rows(),
                    seq.length(), heads, headDim, half, inverseFrequencySpan(rotaryDim, theta));
        }
    }

    /** One launch for both rotations: a thread per (row, head of q or k, pair). */
    @Override
    public void ropeQk(Tensor q, Tensor k, SeqBatch seq, int heads, int kvHeads, int headDim, int rotaryDim, float theta) {
        synchronized (l) {
            KernelArgs.ropeQk(q, k, seq, heads, kvHeads, headDim, rotaryDim);
            int half = rotaryDim / 2;
            if (half == 0 || q.rows() == 0) {
                return;
            }
            l.launch(Kernel.ROPE_QK, Launch.cover((long) q.rows() * (heads + kvHeads) * half, 256), t(q).span(), t(k).span(),
                    starts(seq), q.rows(), seq.length(), heads, kvHeads, headDim, half, inverseFrequencySpan(rotaryDim, theta));
        }
    }

    @Override
    public void localAttention(Tensor q, Tensor k, Tensor v, SeqBatch seq, AttentionSpec spec, Tensor keyCache,
            Tensor valueCache, Tensor out) {
        synchronized (l) {
            KernelArgs.localAttention(q, k, v, seq, spec, keyCache, valueCache, out);
            int n = seq.rows();
            int hd = spec.headDim();
            int kvCols = spec.kvHeads() * hd;
            if (hd > ATTENTION_MAX_HEAD_DIM) {
                throw new IllegalArgumentException("localAttention: head dim " + hd + " above " + ATTENTION_MAX_HEAD_DIM);
            }
            Span st = starts(seq);
            DeviceTensor kt = t(k);
            DeviceTensor vt = t(v);
            DeviceTensor kc = t(keyCache);
            DeviceTensor vc = t(valueCache);
            float scale = (float) (1.0 / Math.sqrt(hd));
            int splits = attentionSplits(spec.window());
            if (seq.length() == 1 && splits > 1) {
                // decode: the window's keys split over blocks, then merged (one block per head would use `heads` SMs)
                long partBytes = floats((long) n * spec.heads() * splits * (hd + 2));
                attentionPartial = grow(attentionPartial, partBytes);
                Span part = new Span(attentionPartial, partBytes);
                l.launch(Kernel.ATTENTION_SPLIT, new Launch(n, spec.heads() * splits, ATTENTION_THREADS), t(q).span(), kt.span(),
                        vt.span(), st, seq.length(), spec.heads(), spec.kvHeads(), hd, spec.window(), scale, splits, kc.span(),
                        vc.span(), part);
                // the merge also writes the step's keys/values to the ring: the slices have read the caches by then
                l.launch(Kernel.ATTENTION_COMBINE, new Launch(n, spec.heads(), ATTENTION_THREADS), part, spec.heads(), hd, splits,
                        t(out).span(), kt.span(), vt.span(), st, spec.window(), kvCols, kc.span(), vc.span());
            } else {
                l.launch(Kernel.ATTENTION, new Launch(n, spec.heads(), ATTENTION_THREADS), t(q).span(), kt.span(), vt.span(), st,
                        seq.length(), spec.heads(), spec.kvHeads(), hd, spec.window(), scale, kc.span(), vc.span(),
                        t(out).span());
                long keep = Math.min(seq.length(), spec.window());
                elementwise(Kernel.KV_UPDATE, seq.batch() * keep * kvCols, kt.span(), vt.span(), st, seq.batch(), seq.length(),
                        spec.window(), kvCols, kc.span(), vc.span());
            }
        }
    }

    @Override
    public void softCap(Tensor x, float cap) {
        synchronized (l) {
            KernelArgs.softCap(x, cap);
            elementwise(Kernel.SOFTCAP, x.size(), t(x).span(), x.size(), cap);
        }
    }

    @Override
    public void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        synchronized (l) {
            KernelArgs.copyRows(src, srcRow, dst, dstRow, rows);
            long row = floats(src.cols());
            l.copy(t(src).buffer(), srcRow * row, t(dst).buffer(), dstRow * row, rows * row);
        }
    }

    @Override
    public void argmax(Tensor x, int[] dst) {
        synchronized (l) {
            KernelArgs.argmax(x, dst);
            DeviceTensor xt = t(x);
            if (x.rows() == 0) {
                return;
            }
            outInts = grow(outInts, x.rows() * 4L);
            l.launch(Kernel.ARGMAX, new Launch(x.rows(), 1, 256), xt.span(), x.cols(), new Span(outInts, x.rows() * 4L));
            l.read(outInts, 0, MemorySegment.ofArray(dst).asSlice(0, x.rows() * 4L));
        }
    }

    @Override
    public void topK(Tensor x, int k, int[] ids, float[] values) {
        synchronized (l) {
            KernelArgs.topK(x, k, ids, values);
            DeviceTensor xt = t(x);
            int cols = x.cols();
            long n = (long) x.rows() * k;
            if (n == 0) {
                return;
            }
            outInts = grow(outInts, n * 4);
            outFloats = grow(outFloats, n * 4);
            l.launch(Kernel.TOPK, new Launch(x.rows(), 1, 256), xt.span(), cols, k, new Span(outInts, n * 4),
                    new Span(outFloats, n * 4));
            l.read(outInts, 0, MemorySegment.ofArray(ids).asSlice(0, n * 4));
            l.read(outFloats, 0, MemorySegment.ofArray(values).asSlice(0, n * 4));
        }
    }

    @Override
    public void fill(Tensor tensor, float value) {
        synchronized (l) {
            elementwise(Kernel.FILL, tensor.size(), t(tensor).span(), tensor.size(), value);
        }
    }

    @Override
    public void close() {
        synchronized (l) {
            if (l.isClosed()) {
                return;
            }
            for (DeviceBuffer b : inverseFrequencies.values()) {
                l.free(b);
            }
            inverseFrequencies.clear();
            starts.close();
            for (DeviceBuffer b : new DeviceBuffer[] {dummy, idBuffer, outInts, outFloats, lruPartial, attentionPartial}) {
                if (b != null) {
                    l.free(b);
                }
            }
        }
    }
}
