package dev.rg.backend.tornado.kernels;

import dev.rg.api.format.FormatCodes;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The device kernels, written as TornadoVM Java (JIT-compiled to OpenCL C or PTX). Every kernel reads its sizes and
 * offsets from a small {@code IntArray p} (and floats from {@code FloatArray f}) that is copied to the device with
 * each launch: TornadoVM fixes scalar task arguments when a task graph is built, and the graphs here are built once
 * and launched for every call.
 *
 * <p>Memory model: all activations and state live in one device buffer, the <em>arena</em> ({@code a}); a tensor is
 * an offset into it. Weights live in per-type buffers: {@code sf} (float32 copies of the small dense weights),
 * {@code wf} (float32 weights, NF4 block absmax), {@code ws} (bf16/f16 elements, int8 scales, as raw 16-bit
 * integers) and {@code wb} (int8 elements, packed 4-bit codes).
 *
 * <p>No half-precision types and no {@code Float.intBitsToFloat} are used (PoCL has no {@code cl_khr_fp16}, and
 * TornadoVM's OpenCL backend cannot emit a bit reinterpretation): a 16-bit float is decoded exactly as
 * {@code scale[sign|exponent] * (implicit bit + mantissa)} with a 576-entry table of powers of two ({@code lut}).
 *
 * <p>These methods are also plain Java: the unit tests call the decoders on the host.
 */
public final class RgKernels {
    private RgKernels() {}

    /** Layout of the lookup table {@code lut}. */
    public static final int LUT_BF16 = 0;
    public static final int LUT_F16 = 512;
    /** The first of the two 4-bit code books the kernels hold (16 values each, from the formats' layouts). */
    public static final int LUT_CODE_BOOK_A = 576;
    /** The second 4-bit code book. */
    public static final int LUT_CODE_BOOK_B = 592;
    public static final int LUT_SIZE = 608;

    /**
     * Weight format codes (kernel parameter): the SPI's {@link FormatCodes} (compile-time constants, as the kernels
     * need), plus two storage variants of this backend numbered from {@link FormatCodes#FIRST_BACKEND_CODE}.
     */
    public static final int FMT_F32 = FormatCodes.F32;
    public static final int FMT_BF16 = FormatCodes.BF16;
    public static final int FMT_F16 = FormatCodes.F16;
    public static final int FMT_INT8 = FormatCodes.INT8_SYMMETRIC;
    /** A 4-bit code-book weight decoded with the code book at {@link #LUT_CODE_BOOK_A}. */
    public static final int FMT_CODE_BOOK_A = FormatCodes.CODE_BOOK_4BIT;
    /** f32 kept in {@code sf} (small weights). */
    public static final int FMT_F32_SMALL = FormatCodes.FIRST_BACKEND_CODE;
    /** A 4-bit code-book weight decoded with the code book at {@link #LUT_CODE_BOOK_B}. */
    public static final int FMT_CODE_BOOK_B = FormatCodes.FIRST_BACKEND_CODE + 1;

    /** Elementwise op codes. */
    public static final int EW_GELU = 0;
    public static final int EW_GELU_MUL = 1;
    public static final int EW_MUL = 2;
    public static final int EW_ADD = 3;
    public static final int EW_SOFTCAP = 4;
    public static final int EW_FILL = 5;
    public static final int EW_COPY = 6;

    /** Where per-sequence start positions and token ids start in {@code p}. */
    public static final int P_LIST = 64;
    /** Size of {@code p}; {@code P_SIZE - P_LIST} ids or positions fit in one launch. */
    public static final int P_SIZE = 512;
    /** Where the weights of a matmul group start in {@code p}, and the ints per weight. */
    public static final int MM_BASE = 8;
    public static final int MM_STRIDE = 8;
    /** Index of a weight's first output row (over the whole group) in its entry. */
    public static final int MM_FIRST = 6;
    /** Most weights in one matmul group launch. */
    public static final int MM_MAX = (P_LIST - MM_BASE) / MM_STRIDE;
    /** Size of {@code f}. */
    public static final int F_SIZE = 512;
    /** Work-group-local arrays are sized for at most this many work-items. */
    public static final int MAX_LOCAL = 256;
    /** Keys scored per tile in the attention kernel (local memory). */
    public static final int ATTN_TILE = 2048;
    /** Largest head dimension of the attention kernel (local accumulator). */
    public static final int MAX_HEAD_DIM = 512;
    /** Elements in the block of an int8 scale. */
    public static final int INT8_BLOCK = 32;
    /** Elements in the block of a 4-bit absmax. */
    public static final int FOUR_BIT_BLOCK = 64;

    // ---------------------------------------------------------------- decoders (also used on the host by tests)

    /** bfloat16 bits (low 16 bits of {@code bits}) to float32, exactly (NaN decodes as infinity). */
    public static float bf16(FloatArray lut, int bits) {
        int b = bits & 0xFFFF;
        int hi = b >>> 7;
        // implicit bit: 128 unless the exponent is 0, in integer arithmetic (TornadoVM's OpenCL backend cannot emit
        // a conditional on an integer test such as (x & m) == 0, and PoCL finds an int min(x, 1) ambiguous)
        int implicit = (((hi & 0xFF) + 255) >>> 8) * 128;
        return lut.get(LUT_BF16 + hi) * (implicit + (b & 0x7F));
    }

    /** IEEE binary16 bits to float32, exactly (infinity and NaN decode as finite values: never in valid weights). */
    public static float f16(FloatArray lut, int bits) {
        int b = bits & 0xFFFF;
        int hi = b >>> 10;
        int implicit = (((hi & 0x1F) + 31) >>> 5) * 1024;
        return lut.get(LUT_F16 + hi) * (implicit + (b & 0x3FF));
    }

    /**
     * Element {@code (row, col)} of a weight of {@code cols} columns in format {@code fmt}, placed at {@code wOff}
     * (elements) with scales / absmax at {@code sOff}.
     */
    public static float weightAt(int fmt, int row, int col, int cols, int wOff, int sOff, FloatArray sf, FloatArray wf,
            ShortArray ws, ByteArray wb, FloatArray lut) {
        int i = row * cols + col;
        float v;
        if (fmt == FMT_BF16) {
            v = bf16(lut, ws.get(wOff + i));
        } else if (fmt == FMT_F32) {
            v = wf.get(wOff + i);
        } else if (fmt == FMT_F32_SMALL) {
            v = sf.get(wOff + i);
        } else if (fmt == FMT_F16) {
            v = f16(lut, ws.get(wOff + i));
        } else if (fmt == FMT_INT8) {
            int blocks = (cols + INT8_BLOCK - 1) / INT8_BLOCK;
            v = wb.get(wOff + i) * f16(lut, ws.get(sOff + row * blocks + col / INT8_BLOCK));
        } else {
            int packed = wb.get(wOff + (i >>> 1)) & 0xFF;
            int code = (packed >>> (4 - 4 * (i & 1))) & 0x0F; // even element: high nibble
            int table = fmt == FMT_CODE_BOOK_A ? LUT_CODE_BOOK_A : LUT_CODE_BOOK_B;
            v = lut.get(table + code) * wf.get(sOff + i / FOUR_BIT_BLOCK);
        }
        return v;
    }

    /** {@code gelu_pytorch_tanh} in float32. */
    public static float gelu(float x) {
        float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + TornadoMath.tanh(inner));
    }

    // ---------------------------------------------------------------- set-up and transfers

    /** Makes every shared buffer of the first init graph part of a task (so TornadoVM allocates and uploads it). */
    public static void touchShared(KernelContext ctx, FloatArray a, FloatArray sf, FloatArray lut, IntArray p) {
        if (ctx.globalIdx == 0 && p.get(0) == 123456789) {
            a.set(0, sf.get(0) + lut.get(0));
        }
    }

    /** Same for the weight buffers of one group. */
    public static void touchGroup(KernelContext ctx, FloatArray wf, ShortArray ws, ByteArray wb, IntArray p) {
        if (ctx.globalIdx == 0 && p.get(0) == 123456789) {
            wf.set(0, ws.get(0) + wb.get(0));
        }
    }

    /** {@code a[p0 + i] = stage[i]} for {@code i < p1}. */
    public static void copyIn(KernelContext ctx, FloatArray a, FloatArray stage, IntArray p) {
        int i = ctx.globalIdx;
        if (i < p.get(1)) {
            a.set(p.get(0) + i, stage.get(i));
        }
    }

    /**
     * Late weight upload: {@code p = [nSf, oSf, nF, oF, nS, oS, nB, oB]}; {@code stF} holds the {@code sf} values then
     * the {@code wf} values.
     */
    public static void weightsIn(KernelContext ctx, FloatArray sf, FloatArray wf, ShortArray ws, ByteArray wb,
            FloatArray stF, ShortArray stS, ByteArray stB, IntArray p) {
        int i = ctx.globalIdx;
        int nSf = p.get(0);
        if (i < nSf) {
            sf.set(p.get(1) + i, stF.get(i));
        }
        if (i < p.get(2)) {
            wf.set(p.get(3) + i, stF.get(nSf + i));
        }
        if (i < p.get(4)) {
            ws.set(p.get(5) + i, stS.get(i));
        }
        if (i < p.get(6)) {
            wb.set(p.get(7) + i, stB.get(i));
        }
    }

    // ---------------------------------------------------------------- matmul and embedding

    /** Partial dot product of work-item {@code lid} for one token: row {@code o} of a bf16 weight. */
    private static float dotBf16(FloatArray a, int x0, ShortArray ws, int base, int in, int lid, int ls, FloatArray lut) {
        float s = 0.0f;
        for (int k = lid; k < in; k += ls) {
            s += bf16(lut, ws.get(base + k)) * a.get(x0 + k);
        }
        return s;
    }

    private static float dotF16(FloatArray a, int x0, ShortArray ws, int base, int in, int lid, int ls, FloatArray lut) {
        float s = 0.0f;
        for (int k = lid; k < in; k += ls) {
            s += f16(lut, ws.get(base + k)) * a.get(x0 + k);
        }
        return s;
    }

    private static float dotF32(FloatArray a, int x0, FloatArray w, int base, int in, int lid, int ls) {
        float s = 0.0f;
        for (int k = lid; k < in; k += ls) {
            s += w.get(base + k) * a.get(x0 + k);
        }
        return s;
    }

    /**
     * The weight of a matmul group that output row {@code g} (counted over all the group's weights) belongs to:
     * the number of weights after the first whose first row is at most {@code g}. Flags summed arithmetically (see
     * {@link #before}).
     */
    private static int groupEntry(IntArray p, int g) {
        int count = p.get(2);
        int wi = 0;
        for (int i = 1; i < count; i++) {
            wi += g >= p.get(MM_BASE + i * MM_STRIDE + MM_FIRST) ? 1 : 0;
        }
        return MM_BASE + wi * MM_STRIDE;
    }

    /**
     * {@code y_i[t, o] = sum_k x[t, k] * W_i[o, k] + bias_i[o]} for the {@code count} weights {@code W_i} of a matmul
     * group (one weight: a plain matmul): one work-group per output row {@code o} of any of them, its work-items
     * striding over {@code k} (coalesced weight reads, the GPU layout), a tree reduction in local memory. A single
     * token (decode) takes a loop specialised for the weight format; several tokens go four per pass through the
     * generic decoder, each weight element decoded once per pass.
     * {@code p = [n, in, count, xOff, totalRows, ...]}, weight i at {@code MM_BASE + i * MM_STRIDE}:
     * {@code [rows, yOff, fmt, wOff, sOff, biasOff (-1: none), firstRow]}.
     */
    public static void matmul(KernelContext ctx, FloatArray a, FloatArray sf, FloatArray wf, ShortArray ws, ByteArray wb,
            FloatArray lut, IntArray p) {
        int g = ctx.groupIdx;
        int lid = ctx.localIdx;
        int ls = ctx.localGroupSizeX;
        int n = p.get(0);
        int in = p.get(1);
        int xOff = p.get(3);
        int e = groupEntry(p, g);
        int o = g - p.get(e + MM_FIRST);
        int out = p.get(e);
        int yOff = p.get(e + 1);
        int fmt = p.get(e + 2);
        int wOff = p.get(e + 3);
        int sOff = p.get(e + 4);
        int bOff = p.get(e + 5);
        float[] red = ctx.allocateFloatLocalArray(1024);
        for (int t0 = 0; t0 < n; t0 += 4) {
            int nt = n - t0 < 4 ? n - t0 : 4;
            int x0 = xOff + t0 * in;
            // every branch stores its partial sums itself: TornadoVM 5.2's OpenCL backend mis-places the phi moves
            // of a multi-way branch (it emits one branch's values after the merge), so no value may flow out of it
            red[256 + lid] = 0.0f;
            red[512 + lid] = 0.0f;
            red[768 + lid] = 0.0f;
            if (nt == 1) {
                if (fmt == FMT_BF16) {
                    red[lid] = dotBf16(a, x0, ws, wOff + o * in, in, lid, ls, lut);
                } else if (fmt == FMT_F32) {
                    red[lid] = dotF32(a, x0, wf, wOff + o * in, in, lid, ls);
                } else if (fmt == FMT_F32_SMALL) {
                    red[lid] = dotF32(a, x0, sf, wOff + o * in, in, lid, ls);
                } else if (fmt == FMT_F16) {
                    red[lid] = dotF16(a, x0, ws, wOff + o * in, in, lid, ls, lut);
                } else {
                    float s = 0.0f;
                    for (int k = lid; k < in; k += ls) {
                        s += weightAt(fmt, o, k, in, wOff, sOff, sf, wf, ws, wb, lut) * a.get(x0 + k);
                    }
                    red[lid] = s;
                }
            } else {
                float s0 = 0.0f;
                float s1 = 0.0f;
                float s2 = 0.0f;
                float s3 = 0.0f;
                for (int k = lid; k < in; k += ls) {
                    float w = weightAt(fmt, o, k, in, wOff, sOff, sf, wf, ws, wb, lut);
                    s0 += w * a.get(x0 + k);
                    s1 += w * a.get(x0 + in + k);
                    if (nt > 2) {
                        s2 += w * a.get(x0 + 2 * in + k);
                    }
                    if (nt > 3) {
                        s3 += w * a.get(x0 + 3 * in + k);
                    }
                }
                red[lid] = s0;
                red[256 + lid] = s1;
                red[512 + lid] = s2;
                red[768 + lid] = s3;
            }
            for (int stride = ls / 2; stride > 0; stride /= 2) {
                ctx.localBarrier();
                if (lid < stride) {
                    red[lid] += red[lid + stride];
                    red[256 + lid] += red[256 + lid + stride];
                    red[512 + lid] += red[512 + lid + stride];
                    red[768 + lid] += red[768 + lid + stride];
                }
            }
            ctx.localBarrier();
            if (lid < nt) {
                float bias = bOff >= 0 ? sf.get(bOff + o) : 0.0f;
                a.set(yOff + (t0 + lid) * out + o, red[256 * lid] + bias);
            }
            ctx.localBarrier();
        }
    }

    /** Dot product of a whole bf16 weight row with {@code x}, four partial sums (independent adds for a CPU). */
    private static float rowBf16(FloatArray a, int x0, ShortArray ws, int base, int in, FloatArray lut) {
        float s0 = 0.0f;
        float s1 = 0.0f;
        float s2 = 0.0f;
        float s3 = 0.0f;
        int k = 0;
        for (; k + 3 < in; k += 4) {
            s0 += bf16(lut, ws.get(base + k)) * a.get(x0 + k);
            s1 += bf16(lut, ws.get(base + k + 1)) * a.get(x0 + k + 1);
            s2 += bf16(lut, ws.get(base + k + 2)) * a.get(x0 + k + 2);
            s3 += bf16(lut, ws.get(base + k + 3)) * a.get(x0 + k + 3);
        }
        for (; k < in; k++) {
            s0 += bf16(lut, ws.get(base + k)) * a.get(x0 + k);
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static float rowF16(FloatArray a, int x0, ShortArray ws, int base, int in, FloatArray lut) {
        float s0 = 0.0f;
        float s1 = 0.0f;
        float s2 = 0.0f;
        float s3 = 0.0f;
        int k = 0;
        for (; k + 3 < in; k += 4) {
            s0 += f16(lut, ws.get(base + k)) * a.get(x0 + k);
            s1 += f16(lut, ws.get(base + k + 1)) * a.get(x0 + k + 1);
            s2 += f16(lut, ws.get(base + k + 2)) * a.get(x0 + k + 2);
            s3 += f16(lut, ws.get(base + k + 3)) * a.get(x0 + k + 3);
        }
        for (; k < in; k++) {
            s0 += f16(lut, ws.get(base + k)) * a.get(x0 + k);
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static float rowF32(FloatArray a, int x0, FloatArray w, int base, int in) {
        float s0 = 0.0f;
        float s1 = 0.0f;
        float s2 = 0.0f;
        float s3 = 0.0f;
        int k = 0;
        for (; k + 3 < in; k += 4) {
            s0 += w.get(base + k) * a.get(x0 + k);
            s1 += w.get(base + k + 1) * a.get(x0 + k + 1);
            s2 += w.get(base + k + 2) * a.get(x0 + k + 2);
            s3 += w.get(base + k + 3) * a.get(x0 + k + 3);
        }
        for (; k < in; k++) {
            s0 += w.get(base + k) * a.get(x0 + k);
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * The same matmul group as {@link #matmul} laid out for a CPU device (PoCL): one work-item per output row, no
     * local memory and no barriers. On a CPU a work-group is a loop run by one thread, and the work-group kernel
     * above pays its barriers and reduction once per output row (measured: about 0.75 us per row on PoCL, 3 ms for
     * a 4096-row LM head); here a work-item walks its weight row contiguously with four independent sums. One token
     * takes a loop specialised for the weight format; several tokens go four per pass through the generic decoder.
     * Same {@code p} as {@link #matmul}.
     */
    public static void matmulRows(KernelContext ctx, FloatArray a, FloatArray sf, FloatArray wf, ShortArray ws,
            ByteArray wb, FloatArray lut, IntArray p) {
        int g = ctx.globalIdx;
        if (g < p.get(4)) {
            int n = p.get(0);
            int in = p.get(1);
            int xOff = p.get(3);
            int e = groupEntry(p, g);
            int o = g - p.get(e + MM_FIRST);
            int out = p.get(e);
            int yOff = p.get(e + 1);
            int fmt = p.get(e + 2);
            int wOff = p.get(e + 3);
            int sOff = p.get(e + 4);
            int bOff = p.get(e + 5);
            float bias = bOff >= 0 ? sf.get(bOff + o) : 0.0f;
            int y = yOff + o;
            for (int t0 = 0; t0 < n; t0 += 4) {
                int nt = n - t0 < 4 ? n - t0 : 4;
                int x0 = xOff + t0 * in;
                // every branch stores its result itself (TornadoVM 5.2 mis-places phi moves of multi-way branches)
                if (nt == 1) {
                    if (fmt == FMT_BF16) {
                        a.set(y + t0 * out, rowBf16(a, x0, ws, wOff + o * in, in, lut) + bias);
                    } else if (fmt == FMT_F32) {
                        a.set(y + t0 * out, rowF32(a, x0, wf, wOff + o * in, in) + bias);
                    } else if (fmt == FMT_F32_SMALL) {
                        a.set(y + t0 * out, rowF32(a, x0, sf, wOff + o * in, in) + bias);
                    } else if (fmt == FMT_F16) {
                        a.set(y + t0 * out, rowF16(a, x0, ws, wOff + o * in, in, lut) + bias);
                    } else {
                        float s = 0.0f;
                        for (int k = 0; k < in; k++) {
                            s += weightAt(fmt, o, k, in, wOff, sOff, sf, wf, ws, wb, lut) * a.get(x0 + k);
                        }
                        a.set(y + t0 * out, s + bias);
                    }
                } else {
                    float s0 = 0.0f;
                    float s1 = 0.0f;
                    float s2 = 0.0f;
                    float s3 = 0.0f;
                    for (int k = 0; k < in; k++) {
                        float w = weightAt(fmt, o, k, in, wOff, sOff, sf, wf, ws, wb, lut);
                        s0 += w * a.get(x0 + k);
                        s1 += w * a.get(x0 + in + k);
                        if (nt > 2) {
                            s2 += w * a.get(x0 + 2 * in + k);
                        }
                        if (nt > 3) {
                            s3 += w * a.get(x0 + 3 * in + k);
                        }
                    }
                    a.set(y + t0 * out, s0 + bias);
                    a.set(y + (t0 + 1) * out, s1 + bias);
                    if (nt > 2) {
                        a.set(y + (t0 + 2) * out, s2 + bias);
                    }
                    if (nt > 3) {
                        a.set(y + (t0 + 3) * out, s3 + bias);
                    }
                }
            }
        }
    }

    /**
     * {@code out[r, c] = table[ids[r], c] * scale}, one work-item per output element.
     * {@code p = [rows, cols, outOff, fmt, wOff, sOff, ..., ids from P_LIST]}, {@code f = [scale]}.
     */
    public static void embed(KernelContext ctx, FloatArray a, FloatArray sf, FloatArray wf, ShortArray ws, ByteArray wb,
            FloatArray lut, IntArray p, FloatArray f) {
        int i = ctx.globalIdx;
        int rows = p.get(0);
        int cols = p.get(1);
        if (i < rows * cols) {
            int r = i / cols;
            int c = i - r * cols;
            float v = weightAt(p.get(3), p.get(P_LIST + r), c, cols, p.get(4), p.get(5), sf, wf, ws, wb, lut);
            a.set(p.get(2) + i, v * f.get(0));
        }
    }

    // ---------------------------------------------------------------- normalisation and elementwise

    /**
     * RMSNorm with a zero-centred scale, one work-group per row. {@code p = [cols, xOff, outOff, scaleOff (sf)]},
     * {@code f = [eps]}.
     */
    public static void rmsNorm(KernelContext ctx, FloatArray a, FloatArray sf, IntArray p, FloatArray f) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int ls = ctx.localGroupSizeX;
        int cols = p.get(0);
        int base = p.get(1) + row * cols;
        int outBase = p.get(2) + row * cols;
        int wOff = p.get(3);
        float[] red = ctx.allocateFloatLocalArray(256);
        float ss = 0.0f;
        for (int k = lid; k < cols; k += ls) {
            float v = a.get(base + k);
            ss += v * v;
        }
        red[lid] = ss;
        for (int stride = ls / 2; stride > 0; stride /= 2) {
            ctx.localBarrier();
            if (lid < stride) {
                red[lid] += red[lid + stride];
            }
        }
        ctx.localBarrier();
        float inv = 1.0f / TornadoMath.sqrt(red[0] / cols + f.get(0));
        for (int k = lid; k < cols; k += ls) {
            a.set(outBase + k, a.get(base + k) * inv * (1.0f + sf.get(wOff + k)));
        }
    }

    /**
     * The residual add and the next norm in one kernel, one work-group per row: {@code x += delta}, then
     * {@code out = x / sqrt(mean(x^2) + eps) * (1 + w)}; each work-item re-reads only the elements it wrote.
     * {@code p = [cols, xOff, deltaOff, outOff, scaleOff (sf)]}, {@code f = [eps]}.
     */
    public static void addRmsNorm(KernelContext ctx, FloatArray a, FloatArray sf, IntArray p, FloatArray f) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int ls = ctx.localGroupSizeX;
        int cols = p.get(0);
        int base = p.get(1) + row * cols;
        int dBase = p.get(2) + row * cols;
        int outBase = p.get(3) + row * cols;
        int wOff = p.get(4);
        float[] red = ctx.allocateFloatLocalArray(256);
        float ss = 0.0f;
        for (int k = lid; k < cols; k += ls) {
            float v = a.get(base + k) + a.get(dBase + k);
            a.set(base + k, v);
            ss += v * v;
        }
        red[lid] = ss;
        for (int stride = ls / 2; stride > 0; stride /= 2) {
            ctx.localBarrier();
            if (lid < stride) {
                red[lid] += red[lid + stride];
            }
        }
        ctx.localBarrier();
        float inv = 1.0f / TornadoMath.sqrt(red[0] / cols + f.get(0));
        for (int k = lid; k < cols; k += ls) {
            a.set(outBase + k, a.get(base + k) * inv * (1.0f + sf.get(wOff + k)));
        }
    }

    /** Elementwise ops on {@code n} elements. {@code p = [op, n, aOff, bOff, outOff]}, {@code f = [cap or value]}. */
    public static void elementwise(KernelContext ctx, FloatArray a, IntArray p, FloatArray f) {
        int i = ctx.globalIdx;
        if (i < p.get(1)) {
            int op = p.get(0);
            int ai = p.get(2) + i;
            int bi = p.get(3) + i;
            int oi = p.get(4) + i;
            if (op == EW_GELU) {
                a.set(oi, gelu(a.get(ai)));
            } else if (op == EW_GELU_MUL) {
                a.set(oi, gelu(a.get(ai)) * a.get(bi));
            } else if (op == EW_MUL) {
                a.set(oi, a.get(ai) * a.get(bi));
            } else if (op == EW_ADD) {
                a.set(oi, a.get(ai) + a.get(bi));
            } else if (op == EW_SOFTCAP) {
                float cap = f.get(0);
                a.set(oi, cap * TornadoMath.tanh(a.get(ai) / cap));
            } else if (op == EW_FILL) {
                a.set(oi, f.get(0));
            } else {
                a.set(oi, a.get(ai));
            }
        }
    }

    // ---------------------------------------------------------------- recurrent block

    /**
     * Causal depthwise conv1d continuing from a state, one work-item per (sequence, channel) walking over time.
     * {@code p = [batch, len, C, K, xOff, outOff, stateOff, kernelOff (sf), biasOff (sf)]}.
     */
    public static void conv1d(KernelContext ctx, FloatArray a, FloatArray sf, IntArray p) {
        int g = ctx.globalIdx;
        int batch = p.get(0);
        int len = p.get(1);
        int c = p.get(2);
        int k = p.get(3);
        if (g < batch * c) {
            int s = g / c;
            int ch = g - s * c;
            int hist = k - 1;
            int xOff = p.get(4);
            int st = p.get(6) + s * hist * c;
            int kOff = p.get(7);
            float bias = sf.get(p.get(8) + ch);
            for (int t = 0; t < len; t++) {
                float acc = bias;
                for (int tap = 0; tap < k; tap++) {
                    int j = t + tap;
                    float xv = j < hist ? a.get(st + j * c + ch) : a.get(xOff + (s * len + j - hist) * c + ch);
                    acc += sf.get(kOff + ch * k + tap) * xv;
                }
                a.set(p.get(5) + (s * len + t) * c + ch, acc);
            }
            // the state keeps the last K-1 inputs; reading index len+j >= j never sees an overwritten slot
            for (int j = 0; j < hist; j++) {
                int src = len + j;
                float v = src < hist ? a.get(st + src * c + ch) : a.get(xOff + (s * len + src - hist) * c + ch);
                a.set(st + j * c + ch, v);
            }
        }
    }

    /**
     * RG-LRU, part 1 (parallel over rows and channels): the block-diagonal gates, then the per-step coefficient
     * {@code a} (0 at a reset) and the normalised input into two scratch tensors.
     * {@code p = [batch, len, R, blocks, bw, xOff, coefOff, inOff, wInOff, bInOff, wRecOff, bRecOff, softplusLambdaOff,
     * ..., starts from P_LIST]}; softplus(Λ) comes computed at load, so {@code log a = -8 * gate_a * softplusLambda}.
     */
    public static void rgLruGates(KernelContext ctx, FloatArray a, FloatArray sf, IntArray p) {
        int g = ctx.globalIdx;
        int len = p.get(1);
        int width = p.get(2);
        int rows = p.get(0) * len;
        if (g < rows * width) {
            int bw = p.get(4);
            int row = g / width;
            int ch = g - row * width;
            int blk = ch / bw;
            int j = ch - blk * bw;
            int s = row / len;
            int pos = p.get(P_LIST + s) + row - s * len;
            int xBase = p.get(5) + row * width;
            int wIn = p.get(8);
            int wRec = p.get(10);
            float gx = sf.get(p.get(9) + ch);
            float ga = sf.get(p.get(11) + ch);
            for (int i = 0; i < bw; i++) {
                float xi = a.get(xBase + blk * bw + i);
                int wi = (blk * bw + i) * bw + j;
                gx += xi * sf.get(wIn + wi);
                ga += xi * sf.get(wRec + wi);
            }
            float gateX = 1.0f / (1.0f + TornadoMath.exp(-gx));
            float gateA = 1.0f / (1.0f + TornadoMath.exp(-ga));
            float logA = -8.0f * gateA * sf.get(p.get(12) + ch);
            float coef = TornadoMath.exp(logA);
            float a2 = TornadoMath.exp(2.0f * logA);
            float mult = pos == 0 ? 1.0f : TornadoMath.sqrt(1.0f - a2);
            a.set(p.get(6) + row * width + ch, pos == 0 ? 0.0f : coef);
            a.set(p.get(7) + row * width + ch, a.get(xBase + ch) * gateX * mult);
        }
    }

    /**
     * RG-LRU, part 2: the scan over time, one work-item per (sequence, channel).
     * {@code p = [batch, len, R, ..., coefOff(6), inOff(7), ..., outOff(13), stateOff(14)]}.
     */
    public static void rgLruScan(KernelContext ctx, FloatArray a, IntArray p) {
        int g = ctx.globalIdx;
        int len = p.get(1);
        int width = p.get(2);
        if (g < p.get(0) * width) {
            int s = g / width;
            int ch = g - s * width;
            int coef = p.get(6);
            int in = p.get(7);
            int out = p.get(13);
            int st = p.get(14) + s * width + ch;
            float h = a.get(st);
            for (int t = 0; t < len; t++) {
                int idx = (s * len + t) * width + ch;
                h = a.get(coef + idx) * h + a.get(in + idx);
                a.set(out + idx, h);
            }
            a.set(st, h);
        }
    }

    /**
     * RG-LRU in one kernel for a CPU device: one work-item per (sequence, channel) walking over time, computing the
     * gates of each step exactly as {@link #rgLruGates} does and the scan of {@link #rgLruScan}, so it gives the same
     * bits in one launch and without the scratch tensors (on a CPU the parallelism of the gates task does not pay
     * for a second launch). Same {@code p} as {@link #rgLruGates}, plus {@code outOff(13), stateOff(14)}.
     */
    public static void rgLruSeq(KernelContext ctx, FloatArray a, FloatArray sf, IntArray p) {
        int g = ctx.globalIdx;
        int len = p.get(1);
        int width = p.get(2);
        if (g < p.get(0) * width) {
            int s = g / width;
            int ch = g - s * width;
            int bw = p.get(4);
            int blk = ch / bw;
            int j = ch - blk * bw;
            int wIn = p.get(8);
            int wRec = p.get(10);
            float bx = sf.get(p.get(9) + ch);
            float ba = sf.get(p.get(11) + ch);
            float lambda = sf.get(p.get(12) + ch);
            int start = p.get(P_LIST + s);
            int st = p.get(14) + s * width + ch;
            float h = a.get(st);
            for (int t = 0; t < len; t++) {
                int row = s * len + t;
                int xBase = p.get(5) + row * width;
                float gx = bx;
                float ga = ba;
                for (int i = 0; i < bw; i++) {
                    float xi = a.get(xBase + blk * bw + i);
                    int wi = (blk * bw + i) * bw + j;
                    gx += xi * sf.get(wIn + wi);
                    ga += xi * sf.get(wRec + wi);
                }
                float gateX = 1.0f / (1.0f + TornadoMath.exp(-gx));
                float gateA = 1.0f / (1.0f + TornadoMath.exp(-ga));
                float logA = -8.0f * gateA * lambda;
                float coef = TornadoMath.exp(logA);
                float a2 = TornadoMath.exp(2.0f * logA);
                int pos = start + t;
                float mult = pos == 0 ? 1.0f : TornadoMath.sqrt(1.0f - a2);
                float c = pos == 0 ? 0.0f : coef;
                h = c * h + a.get(xBase + ch) * gateX * mult;
                a.set(p.get(13) + row * width + ch, h);
            }
            a.set(st, h);
        }
    }

    // ---------------------------------------------------------------- attention block

    /** Rotates pair {@code j} of head {@code head} of row {@code row} of the tensor at {@code xOff} in place. */
    private static void rotatePair(FloatArray a, IntArray p, FloatArray f, int row, int head, int j, int heads, int xOff) {
        int len = p.get(1);
        int hd = p.get(3);
        int half = p.get(4);
        int s = row / len;
        int pos = p.get(P_LIST + s) + row - s * len;
        float angle = pos * f.get(j);
        float cos = TornadoMath.cos(angle);
        float sin = TornadoMath.sin(angle);
        int base = xOff + row * heads * hd + head * hd;
        float first = a.get(base + j);
        float second = a.get(base + j + half);
        a.set(base + j, first * cos - second * sin);
        a.set(base + j + half, second * cos + first * sin);
    }

    /**
     * Rotary embedding in place, NeoX pairing, one work-item per (row, head, pair), of one tensor or (ropeQk) of q
     * then k in the same launch: work-items past q's pairs rotate k's.
     * {@code p = [rows, len, heads, headDim, half, xOff, kHeads (0: q only), kOff, ..., starts from P_LIST]},
     * {@code f = inverse frequencies}.
     */
    public static void rope(KernelContext ctx, FloatArray a, IntArray p, FloatArray f) {
        int g = ctx.globalIdx;
        int rows = p.get(0);
        int heads = p.get(2);
        int kHeads = p.get(6);
        int half = p.get(4);
        int qPairs = rows * heads * half;
        // each branch does its own stores (TornadoVM 5.2 mis-places phi moves of multi-way branches)
        if (g < qPairs) {
            int perRow = heads * half;
            int row = g / perRow;
            int rem = g - row * perRow;
            int head = rem / half;
            rotatePair(a, p, f, row, head, rem - head * half, heads, p.get(5));
        } else if (g < qPairs + rows * kHeads * half) {
            int k = g - qPairs;
            int perRow = kHeads * half;
            int row = k / perRow;
            int rem = k - row * perRow;
            int head = rem / half;
            rotatePair(a, p, f, row, head, rem - head * half, kHeads, p.get(7));
        }
    }

    /** Offset of the key (or value) of position {@code pos} for sequence {@code s}: this call's rows or the cache. */
    private static int kvOffset(int pos, int start, int s, int len, int kvCols, int kvHead, int hd, int window,
            int cacheCols, int rowsOff, int cacheOff) {
        int off;
        if (pos >= start) {
            off = rowsOff + (s * len + pos - start) * kvCols + kvHead * hd;
        } else {
            off = cacheOff + s * cacheCols + (pos % window) * kvCols + kvHead * hd;
        }
        return off;
    }

    /**
     * Local multi-query attention, one work-group per (row, head): scores of a tile of keys in local memory, an
     * online softmax across tiles (any window), the weighted sum of values per head dimension.
     * {@code p = [heads, kvHeads, hd, W, len, qOff, kOff, vOff, outOff, kcOff, vcOff, cacheCols, batch,
     * ..., starts from P_LIST]}, {@code f = [scale]}.
     */
    public static void attention(KernelContext ctx, FloatArray a, IntArray p, FloatArray f) {
        int g = ctx.groupIdx;
        int lid = ctx.localIdx;
        int ls = ctx.localGroupSizeX;
        int heads = p.get(0);
        int kvHeads = p.get(1);
        int hd = p.get(2);
        int window = p.get(3);
        int len = p.get(4);
        int kOff = p.get(6);
        int vOff = p.get(7);
        int kcOff = p.get(9);
        int vcOff = p.get(10);
        int cacheCols = p.get(11);
        float scale = f.get(0);
        float[] sc = ctx.allocateFloatLocalArray(2048);
        float[] acc = ctx.allocateFloatLocalArray(512);
        float[] red = ctx.allocateFloatLocalArray(256);
        int row = g / heads;
        int head = g - row * heads;
        int s = row / len;
        int start = p.get(P_LIST + s);
        int pos = start + row - s * len;
        int first = pos - window > 0 ? pos - window : 0;
        int nk = pos - first + 1;
        int kvHead = head / (heads / kvHeads);
        int kvCols = kvHeads * hd;
        int qBase = p.get(5) + row * heads * hd + head * hd;
        for (int d = lid; d < hd; d += ls) {
            acc[d] = 0.0f;
        }
        float m = -3.0e38f;
        float l = 0.0f;
        for (int ts = 0; ts < nk; ts += ATTN_TILE) {
            int tn = nk - ts < ATTN_TILE ? nk - ts : ATTN_TILE;
            float localMax = -3.0e38f;
            for (int j = lid; j < tn; j += ls) {
                int kb = kvOffset(first + ts + j, start, s, len, kvCols, kvHead, hd, window, cacheCols, kOff, kcOff);
                float dot = 0.0f;
                for (int d = 0; d < hd; d++) {
                    dot += a.get(qBase + d) * a.get(kb + d);
                }
                float v = dot * scale;
                sc[j] = v;
                localMax = TornadoMath.max(localMax, v);
            }
            red[lid] = localMax;
            for (int stride = ls / 2; stride > 0; stride /= 2) {
                ctx.localBarrier();
                if (lid < stride) {
                    red[lid] = TornadoMath.max(red[lid], red[lid + stride]);
                }
            }
            ctx.localBarrier();
            float newMax = TornadoMath.max(m, red[0]);
            float corr = TornadoMath.exp(m - newMax);
            ctx.localBarrier();
            float localSum = 0.0f;
            for (int j = lid; j < tn; j += ls) {
                float e = TornadoMath.exp(sc[j] - newMax);
                sc[j] = e;
                localSum += e;
            }
            red[lid] = localSum;
            for (int stride = ls / 2; stride > 0; stride /= 2) {
                ctx.localBarrier();
                if (lid < stride) {
                    red[lid] += red[lid + stride];
                }
            }
            ctx.localBarrier();
            l = l * corr + red[0];
            for (int d = lid; d < hd; d += ls) {
                float sum = acc[d] * corr;
                for (int j = 0; j < tn; j++) {
                    int vb = kvOffset(first + ts + j, start, s, len, kvCols, kvHead, hd, window, cacheCols, vOff, vcOff);
                    sum += sc[j] * a.get(vb + d);
                }
                acc[d] = sum;
            }
            m = newMax;
            ctx.localBarrier();
        }
        int outBase = p.get(8) + row * heads * hd + head * hd;
        for (int d = lid; d < hd; d += ls) {
            a.set(outBase + d, acc[d] / l);
        }
    }

    /** After {@link #attention}: the caches keep the keys/values of the last W positions (slot {@code p % W}). */
    public static void attentionCache(KernelContext ctx, FloatArray a, IntArray p) {
        int i = ctx.globalIdx;
        int kvCols = p.get(1) * p.get(2);
        int window = p.get(3);
        int len = p.get(4);
        int count = len < window ? len : window;
        if (i < p.get(12) * count * kvCols) {
            int s = i / (count * kvCols);
            int rem = i - s * count * kvCols;
            int r = rem / kvCols;
            int c = rem - r * kvCols;
            int start = p.get(P_LIST + s);
            int pos = start + len - count + r;
            int src = (s * len + pos - start) * kvCols + c;
            int slot = s * p.get(11) + (pos % window) * kvCols + c;
            a.set(p.get(9) + slot, a.get(p.get(6) + src));
            a.set(p.get(10) + slot, a.get(p.get(7) + src));
        }
    }

    // ---------------------------------------------------------------- selection

    /**
     * 1 when candidate {@code (v, i)} comes before {@code (bv, bi)} in the order "larger value first, then lower
     * index" ({@code bi < 0}: no best yet; {@code i < 0}: no candidate). Nested ifs on purpose: TornadoVM 5.2's OpenCL
     * backend mis-lowers compound conditions such as {@code a || b || (c && d)}.
     */
    public static int before(float v, int i, float bv, int bi) {
        // 0/1 flags combined arithmetically, so that Graal builds no short-circuit logic from them
        int valid = i >= 0 ? 1 : 0;
        int none = bi < 0 ? 1 : 0;
        int greater = v > bv ? 1 : 0;
        int equal = v == bv ? 1 : 0;
        int lower = i < bi ? 1 : 0;
        return valid * (none + (1 - none) * (greater + equal * lower));
    }

    /** Index of each row's largest value (lowest index on ties), one work-group per row. {@code p = [cols, xOff]}. */
    public static void argmax(KernelContext ctx, FloatArray a, IntArray p, IntArray ids) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int ls = ctx.localGroupSizeX;
        int cols = p.get(0);
        int base = p.get(1) + row * cols;
        float[] rv = ctx.allocateFloatLocalArray(256);
        int[] ri = ctx.allocateIntLocalArray(256);
        float best = 0.0f;
        int bestIdx = -1;
        for (int c = lid; c < cols; c += ls) {
            float v = a.get(base + c);
            if (before(v, c, best, bestIdx) == 1) {
                best = v;
                bestIdx = c;
            }
        }
        rv[lid] = best;
        ri[lid] = bestIdx;
        for (int stride = ls / 2; stride > 0; stride /= 2) {
            ctx.localBarrier();
            if (lid < stride) {
                int oi = ri[lid + stride];
                float ov = rv[lid + stride];
                if (before(ov, oi, rv[lid], ri[lid]) == 1) {
                    rv[lid] = ov;
                    ri[lid] = oi;
                }
            }
        }
        ctx.localBarrier();
        if (lid == 0) {
            ids.set(row, ri[0]);
        }
    }

    /**
     * The {@code k} largest values of each row in descending order (lowest index first on ties): k selection passes
     * over the row, each finding the best element after the previous one in that order. One work-group per row.
     * {@code p = [cols, xOff, k]}.
     */
    public static void topK(KernelContext ctx, FloatArray a, IntArray p, IntArray ids, FloatArray values) {
        int row = ctx.groupIdx;
        int lid = ctx.localIdx;
        int ls = ctx.localGroupSizeX;
        int cols = p.get(0);
        int base = p.get(1) + row * cols;
        int k = p.get(2);
        float[] rv = ctx.allocateFloatLocalArray(256);
        int[] ri = ctx.allocateIntLocalArray(256);
        float prevV = 0.0f;
        int prevI = -1;
        for (int it = 0; it < k; it++) {
            float best = 0.0f;
            int bestIdx = -1;
            for (int c = lid; c < cols; c += ls) {
                float v = a.get(base + c);
                // (v, c) is still a candidate when it comes after the previous pick in the order
                int candidate = 1;
                if (prevI >= 0) {
                    candidate = before(prevV, prevI, v, c);
                }
                if (candidate == 1) {
                    if (before(v, c, best, bestIdx) == 1) {
                        best = v;
                        bestIdx = c;
                    }
                }
            }
            rv[lid] = best;
            ri[lid] = bestIdx;
            for (int stride = ls / 2; stride > 0; stride /= 2) {
                ctx.localBarrier();
                if (lid < stride) {
                    int oi = ri[lid + stride];
                    float ov = rv[lid + stride];
                    if (before(ov, oi, rv[lid], ri[lid]) == 1) {
                        rv[lid] = ov;
                        ri[lid] = oi;
                    }
                }
            }
            ctx.localBarrier();
            prevV = rv[0];
            prevI = ri[0];
            if (lid == 0) {
                ids.set(row * k + it, prevI);
                values.set(row * k + it, prevV);
            }
            ctx.localBarrier();
        }
    }
}
