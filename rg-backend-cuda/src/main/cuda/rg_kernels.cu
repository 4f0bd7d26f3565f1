/*
 * The kernels of rg's CUDA backend (dev.rg.backend.cuda). One source, two dialects (see rg_port.h): nvcc turns
 * it into the PTX that ships in the jar; the tests build it as OpenCL C on a CPU device and run the conformance
 * kit on it. Launch geometry and argument lists live in one place on the Java side
 * (dev.rg.backend.cuda.device.DeviceKernels), shared by both hosts.
 *
 * Conventions: activations are float32 row-major; weights keep their storage format; an index that can pass
 * 2^31 is computed in rg_i64. Semantics are those of dev.rg.core.reference.ReferenceKernels.
 */
#include "rg_port.h"

/* ------------------------------------------------------------------ weights */

/* Threads per block of the row-per-32-threads matvec kernels, rows per block, activation rows per pass. */
#define MV_THREADS 256
#define MV_ROWS 8
#define MV_MAXN 4

/*
 * Element (r, k) of a weight in any supported format:
 *   dense: w[r*in + k];
 *   int8:  int8 w[r*in + k] * scale[r*ceil(in/B) + k/B] (aux; f16 or f32: auxFmt);
 *   q4:    4-bit code of flattened element i = r*in + k (byte i/2, even i in the high nibble) looked up in the
 *          16-entry code book cb, times absmax[i/B] (aux, float32).
 */
RG_DEVICE float rg_weight(int fmt, const RG_GLOBAL rg_u8* w, const RG_GLOBAL rg_u8* aux, int auxFmt, RG_LOCAL float* cb,
        int in, int blockSize, int r, int k) {
    if (fmt == RG_FMT_I8) {
        rg_i64 blocks = (in + blockSize - 1) / blockSize;
        float q = (float) ((const RG_GLOBAL rg_i8*) w)[(rg_i64) r * in + k];
        return q * rg_dense(aux, auxFmt, (rg_i64) r * blocks + k / blockSize);
    }
    if (fmt == RG_FMT_Q4) {
        rg_i64 i = (rg_i64) r * in + k;
        rg_u32 b = w[i >> 1];
        rg_u32 code = (i & 1) ? (b & 15u) : (b >> 4);
        return cb[code] * ((const RG_GLOBAL float*) aux)[i / blockSize];
    }
    return rg_dense(w, fmt, (rg_i64) r * in + k);
}

/* acc[m] += sum_j wv[j] * x[xRow0 + m][k + j] for the first n activation rows. */
RG_DEVICE void rg_mv_fma(float* acc, const float* wv, int cnt, const RG_GLOBAL float* x, int xRow0, int in, int n, int k) {
#pragma unroll
    for (int m = 0; m < MV_MAXN; m++) {
        if (m < n) {
            const RG_GLOBAL float* xr = x + (rg_i64) (xRow0 + m) * in + k;
            float s = acc[m];
            for (int j = 0; j < cnt; j++) {
                s = RG_FMA(wv[j], xr[j], s);
            }
            acc[m] = s;
        }
    }
}

/* Reduces each row's 32 partial sums and writes out[xRow0 + m][row] (+ bias). Every thread calls it. */
RG_DEVICE void rg_mv_store(float* acc, int row, int outDim, int n, int xRow0, const RG_GLOBAL rg_u8* bias, int biasFmt,
        int hasBias, RG_GLOBAL float* out, RG_LOCAL float* red) {
    int lane = RG_TID & 31;
#pragma unroll
    for (int m = 0; m < MV_MAXN; m++) {
        float s = rg_sum32(acc[m], red);
        if (lane == 0 && row < outDim && m < n) {
            if (hasBias) {
                s += rg_dense(bias, biasFmt, row);
            }
            out[(rg_i64) (xRow0 + m) * outDim + row] = s;
        }
    }
}

#define RG_MV_PROLOGUE                                                   \
    RG_SHARED float red[MV_THREADS];                                     \
    int lane = RG_TID & 31;                                              \
    int row = RG_BID * MV_ROWS + (RG_TID >> 5);                          \
    int r = row < outDim ? row : outDim - 1;                             \
    float acc[MV_MAXN];                                                  \
    for (int m = 0; m < MV_MAXN; m++) {                                  \
        acc[m] = 0.0f;                                                   \
    }

/*
 * Decode matvec, float32 weights: out[xRow0+m][row] = x[xRow0+m] . w[row] (+ bias) for m < n <= MV_MAXN.
 * One 32-thread group per weight row, 16-byte loads (4 weights), grid = ceil(outDim / MV_ROWS).
 */
RG_KERNEL rg_matvec_f32(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL float* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt,
        int hasBias, RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_PROLOGUE
    const RG_GLOBAL float* wr = w + (rg_i64) r * in;
    int chunks = (in & 3) == 0 ? in >> 2 : 0; /* 16-byte loads only when every row starts aligned */
    /* unrolled so that each thread has several 16-byte loads in flight (decode grids are small) */
    RG_UNROLL4
    for (int c = lane; c < chunks; c += 32) {
        rg_u32x4 q = ((const RG_GLOBAL rg_u32x4*) wr)[c];
        float wv[4];
        wv[0] = RG_AS_FLOAT(q.x);
        wv[1] = RG_AS_FLOAT(q.y);
        wv[2] = RG_AS_FLOAT(q.z);
        wv[3] = RG_AS_FLOAT(q.w);
        rg_mv_fma(acc, wv, 4, x, xRow0, in, n, c << 2);
    }
    for (int k = (chunks << 2) + lane; k < in; k += 32) {
        float wv[1];
        wv[0] = wr[k];
        rg_mv_fma(acc, wv, 1, x, xRow0, in, n, k);
    }
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, hasBias, out, red);
}

/* Unpacks 8 16-bit floats of a 16-byte chunk (little-endian: the low half of each word first). */
#define RG_UNPACK8(q, wv, CVT)            \
    wv[0] = CVT((q).x & 0xffffu);         \
    wv[1] = CVT((q).x >> 16);             \
    wv[2] = CVT((q).y & 0xffffu);         \
    wv[3] = CVT((q).y >> 16);             \
    wv[4] = CVT((q).z & 0xffffu);         \
    wv[5] = CVT((q).z >> 16);             \
    wv[6] = CVT((q).w & 0xffffu);         \
    wv[7] = CVT((q).w >> 16);

/* Decode matvec, bfloat16 weights (8 per 16-byte load). */
RG_KERNEL rg_matvec_bf16(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL rg_u16* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt,
        int hasBias, RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_PROLOGUE
    const RG_GLOBAL rg_u16* wr = w + (rg_i64) r * in;
    int chunks = (in & 7) == 0 ? in >> 3 : 0;
    /* unrolled so that each thread has several 16-byte loads in flight (decode grids are small) */
    RG_UNROLL4
    for (int c = lane; c < chunks; c += 32) {
        rg_u32x4 q = ((const RG_GLOBAL rg_u32x4*) wr)[c];
        float wv[8];
        RG_UNPACK8(q, wv, rg_bf16)
        rg_mv_fma(acc, wv, 8, x, xRow0, in, n, c << 3);
    }
    for (int k = (chunks << 3) + lane; k < in; k += 32) {
        float wv[1];
        wv[0] = rg_bf16(wr[k]);
        rg_mv_fma(acc, wv, 1, x, xRow0, in, n, k);
    }
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, hasBias, out, red);
}

/* Decode matvec, IEEE binary16 weights (8 per 16-byte load). */
RG_KERNEL rg_matvec_f16(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL rg_u16* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt,
        int hasBias, RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_PROLOGUE
    const RG_GLOBAL rg_u16* wr = w + (rg_i64) r * in;
    int chunks = (in & 7) == 0 ? in >> 3 : 0;
    /* unrolled so that each thread has several 16-byte loads in flight (decode grids are small) */
    RG_UNROLL4
    for (int c = lane; c < chunks; c += 32) {
        rg_u32x4 q = ((const RG_GLOBAL rg_u32x4*) wr)[c];
        float wv[8];
        RG_UNPACK8(q, wv, rg_f16)
        rg_mv_fma(acc, wv, 8, x, xRow0, in, n, c << 3);
    }
    for (int k = (chunks << 3) + lane; k < in; k += 32) {
        float wv[1];
        wv[0] = rg_f16(wr[k]);
        rg_mv_fma(acc, wv, 1, x, xRow0, in, n, k);
    }
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, hasBias, out, red);
}

/* Sign-extends byte b (0..3) of a 32-bit word. */
#define RG_SBYTE(word, b) ((float) (((int) ((word) << (24 - 8 * (b)))) >> 24))

/*
 * Decode matvec, blockwise symmetric int8: w = q * scale[row][k / blockSize] (scales f16 or f32: scaleFmt).
 * 16 weights per 16-byte load when blockSize is a multiple of 16 (one scale per load), else element by element.
 */
RG_KERNEL rg_matvec_i8(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT scales, int scaleFmt,
        int blockSize, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt, int hasBias,
        RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_PROLOGUE
    const RG_GLOBAL rg_u8* wr = w + (rg_i64) r * in;
    rg_i64 srow = (rg_i64) r * ((in + blockSize - 1) / blockSize);
    int chunks = ((in & 15) == 0 && (blockSize & 15) == 0) ? in >> 4 : 0;
    /* unrolled so that each thread has several 16-byte loads in flight (decode grids are small) */
    RG_UNROLL4
    for (int c = lane; c < chunks; c += 32) {
        rg_u32x4 q = ((const RG_GLOBAL rg_u32x4*) wr)[c];
        float s = rg_dense(scales, scaleFmt, srow + (c << 4) / blockSize);
        float wv[16];
        wv[0] = RG_SBYTE(q.x, 0) * s;
        wv[1] = RG_SBYTE(q.x, 1) * s;
        wv[2] = RG_SBYTE(q.x, 2) * s;
        wv[3] = RG_SBYTE(q.x, 3) * s;
        wv[4] = RG_SBYTE(q.y, 0) * s;
        wv[5] = RG_SBYTE(q.y, 1) * s;
        wv[6] = RG_SBYTE(q.y, 2) * s;
        wv[7] = RG_SBYTE(q.y, 3) * s;
        wv[8] = RG_SBYTE(q.z, 0) * s;
        wv[9] = RG_SBYTE(q.z, 1) * s;
        wv[10] = RG_SBYTE(q.z, 2) * s;
        wv[11] = RG_SBYTE(q.z, 3) * s;
        wv[12] = RG_SBYTE(q.w, 0) * s;
        wv[13] = RG_SBYTE(q.w, 1) * s;
        wv[14] = RG_SBYTE(q.w, 2) * s;
        wv[15] = RG_SBYTE(q.w, 3) * s;
        rg_mv_fma(acc, wv, 16, x, xRow0, in, n, c << 4);
    }
    for (int k = (chunks << 4) + lane; k < in; k += 32) {
        float wv[1];
        wv[0] = (float) ((const RG_GLOBAL rg_i8*) wr)[k] * rg_dense(scales, scaleFmt, srow + k / blockSize);
        rg_mv_fma(acc, wv, 1, x, xRow0, in, n, k);
    }
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, hasBias, out, red);
}

/* The two 4-bit codes of byte b (0..3) of a word: even element in the high nibble. */
#define RG_Q4PAIR(wv, o, word, b, cb, s)                      \
    wv[(o)] = cb[((word) >> (8 * (b) + 4)) & 15u] * (s);      \
    wv[(o) + 1] = cb[((word) >> (8 * (b))) & 15u] * (s);

/*
 * Decode matvec, 4-bit code-book formats (bitsandbytes NF4/FP4 layout): codes over the flattened tensor, one float32
 * absmax per blockSize elements (blocks may cross rows), 16-entry code book. 32 weights per 16-byte load when
 * every row starts on a 32-element boundary and blockSize is a multiple of 32, else element by element.
 */
RG_KERNEL rg_matvec_q4(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL float* RG_RESTRICT absmax,
        const RG_GLOBAL float* RG_RESTRICT codebook, int blockSize, const RG_GLOBAL rg_u8* RG_RESTRICT bias,
        int biasFmt, int hasBias, RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_PROLOGUE
    RG_SHARED float cb[16];
    if (RG_TID < 16) {
        cb[RG_TID] = codebook[RG_TID];
    }
    RG_SYNC();
    rg_i64 first = (rg_i64) r * in;
    int chunks = ((in & 31) == 0 && (blockSize & 31) == 0) ? in >> 5 : 0;
    const RG_GLOBAL rg_u8* wr = w + (first >> 1);
    /* unrolled so that each thread has several 16-byte loads in flight (decode grids are small) */
    RG_UNROLL4
    for (int c = lane; c < chunks; c += 32) {
        rg_u32x4 q = ((const RG_GLOBAL rg_u32x4*) wr)[c];
        float s = absmax[(first + (c << 5)) / blockSize];
        float wv[32];
        RG_Q4PAIR(wv, 0, q.x, 0, cb, s)
        RG_Q4PAIR(wv, 2, q.x, 1, cb, s)
        RG_Q4PAIR(wv, 4, q.x, 2, cb, s)
        RG_Q4PAIR(wv, 6, q.x, 3, cb, s)
        RG_Q4PAIR(wv, 8, q.y, 0, cb, s)
        RG_Q4PAIR(wv, 10, q.y, 1, cb, s)
        RG_Q4PAIR(wv, 12, q.y, 2, cb, s)
        RG_Q4PAIR(wv, 14, q.y, 3, cb, s)
        RG_Q4PAIR(wv, 16, q.z, 0, cb, s)
        RG_Q4PAIR(wv, 18, q.z, 1, cb, s)
        RG_Q4PAIR(wv, 20, q.z, 2, cb, s)
        RG_Q4PAIR(wv, 22, q.z, 3, cb, s)
        RG_Q4PAIR(wv, 24, q.w, 0, cb, s)
        RG_Q4PAIR(wv, 26, q.w, 1, cb, s)
        RG_Q4PAIR(wv, 28, q.w, 2, cb, s)
        RG_Q4PAIR(wv, 30, q.w, 3, cb, s)
        rg_mv_fma(acc, wv, 32, x, xRow0, in, n, c << 5);
    }
    for (int k = (chunks << 5) + lane; k < in; k += 32) {
        float wv[1];
        wv[0] = rg_weight(RG_FMT_Q4, w, (const RG_GLOBAL rg_u8*) absmax, RG_FMT_F32, cb, in, blockSize, r, k);
        rg_mv_fma(acc, wv, 1, x, xRow0, in, n, k);
    }
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, hasBias, out, red);
}

/* Tile of the prefill matmul: TM activation rows x TN weight rows, TK-deep, 256 threads computing 4x4 each. */
#define TM 64
#define TN 64
#define TK 16

/*
 * Prefill matmul for many activation rows, any weight format: out[n, outDim] = x[n, in] @ w^T (+ bias).
 * Grid (ceil(outDim/TN), ceil(n/TM)), 256 threads. Weights are decoded to float32 while they are staged in
 * shared memory, so every format shares the tile loop.
 */
RG_KERNEL rg_matmul_tiled(const RG_GLOBAL float* RG_RESTRICT x, int n, int in, int outDim, int fmt,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT aux, int auxFmt,
        const RG_GLOBAL float* RG_RESTRICT codebook, int blockSize, const RG_GLOBAL rg_u8* RG_RESTRICT bias,
        int biasFmt, int hasBias, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float xs[TK][TM + 1];
    RG_SHARED float ws[TK][TN + 1];
    RG_SHARED float cb[16];
    int t = RG_TID;
    int tx = t & 15;
    int ty = t >> 4;
    int row0 = RG_BID_Y * TM;
    int col0 = RG_BID * TN;
    if (t < 16) {
        cb[t] = fmt == RG_FMT_Q4 ? codebook[t] : 0.0f;
    }
    float acc[4][4];
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            acc[i][j] = 0.0f;
        }
    }
    for (int k0 = 0; k0 < in; k0 += TK) {
        RG_SYNC();
        for (int e = t; e < TM * TK; e += 256) {
            int i = e / TK;
            int kk = e % TK;
            int gr = row0 + i;
            int gk = k0 + kk;
            xs[kk][i] = (gr < n && gk < in) ? x[(rg_i64) gr * in + gk] : 0.0f;
        }
        for (int e = t; e < TN * TK; e += 256) {
            int j = e / TK;
            int kk = e % TK;
            int gc = col0 + j;
            int gk = k0 + kk;
            ws[kk][j] = (gc < outDim && gk < in) ? rg_weight(fmt, w, aux, auxFmt, cb, in, blockSize, gc, gk) : 0.0f;
        }
        RG_SYNC();
#pragma unroll
        for (int kk = 0; kk < TK; kk++) {
            float a[4];
            float b[4];
            for (int i = 0; i < 4; i++) {
                a[i] = xs[kk][ty + 16 * i];
                b[i] = ws[kk][tx + 16 * i];
            }
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    acc[i][j] = RG_FMA(a[i], b[j], acc[i][j]);
                }
            }
        }
    }
    for (int i = 0; i < 4; i++) {
        int gr = row0 + ty + 16 * i;
        for (int j = 0; j < 4; j++) {
            int gc = col0 + tx + 16 * j;
            if (gr < n && gc < outDim) {
                float s = acc[i][j];
                if (hasBias) {
                    s += rg_dense(bias, biasFmt, gc);
                }
                out[(rg_i64) gr * outDim + gc] = s;
            }
        }
    }
}

/* out[r][c] = table[ids[r]][c] * scale, any weight format. Grid-stride over rows*cols; 256 threads. */
RG_KERNEL rg_embed(const RG_GLOBAL int* RG_RESTRICT ids, int rows, int cols, int fmt, const RG_GLOBAL rg_u8* RG_RESTRICT w,
        const RG_GLOBAL rg_u8* RG_RESTRICT aux, int auxFmt, const RG_GLOBAL float* RG_RESTRICT codebook, int blockSize,
        float scale, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float cb[16];
    if (RG_TID < 16) {
        cb[RG_TID] = fmt == RG_FMT_Q4 ? codebook[RG_TID] : 0.0f;
    }
    RG_SYNC();
    rg_i64 total = (rg_i64) rows * cols;
    for (rg_i64 i = (rg_i64) RG_BID * RG_BDIM + RG_TID; i < total; i += (rg_i64) RG_GDIM * RG_BDIM) {
        int r = (int) (i / cols);
        int c = (int) (i % cols);
        out[i] = rg_weight(fmt, w, aux, auxFmt, cb, cols, blockSize, ids[r], c) * scale;
    }
}

/* ------------------------------------------------------------------ norms and elementwise */

/* RMSNorm with a zero-centred scale, one 256-thread block per row. */
RG_KERNEL rg_rmsnorm(const RG_GLOBAL float* RG_RESTRICT x, int cols, const RG_GLOBAL rg_u8* RG_RESTRICT w, int wFmt,
        float eps, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float red[256];
    const RG_GLOBAL float* xr = x + (rg_i64) RG_BID * cols;
    RG_GLOBAL float* orow = out + (rg_i64) RG_BID * cols;
    float ss = 0.0f;
    for (int c = RG_TID; c < cols; c += RG_BDIM) {
        ss = RG_FMA(xr[c], xr[c], ss);
    }
    ss = rg_block_sum(ss, red);
    float inv = 1.0f / RG_SQRT(ss / (float) cols + eps);
    for (int c = RG_TID; c < cols; c += RG_BDIM) {
        orow[c] = xr[c] * inv * (1.0f + rg_dense(w, wFmt, c));
    }
}

/* gelu_pytorch_tanh. */
RG_DEVICE float rg_gelu(float x) {
    float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + RG_TANH(inner));
}

#define RG_GRID_STRIDE(i, n) for (rg_i64 i = (rg_i64) RG_BID * RG_BDIM + RG_TID; i < (n); i += (rg_i64) RG_GDIM * RG_BDIM)

RG_KERNEL rg_gelu_kernel(const RG_GLOBAL float* x, rg_i64 n, RG_GLOBAL float* out) {
    RG_GRID_STRIDE(i, n) {
        out[i] = rg_gelu(x[i]);
    }
}

RG_KERNEL rg_gelu_mul(const RG_GLOBAL float* gate, const RG_GLOBAL float* up, rg_i64 n, RG_GLOBAL float* out) {
    RG_GRID_STRIDE(i, n) {
        out[i] = rg_gelu(gate[i]) * up[i];
    }
}

RG_KERNEL rg_mul(const RG_GLOBAL float* a, const RG_GLOBAL float* b, rg_i64 n, RG_GLOBAL float* out) {
    RG_GRID_STRIDE(i, n) {
        out[i] = a[i] * b[i];
    }
}

RG_KERNEL rg_add(const RG_GLOBAL float* a, const RG_GLOBAL float* b, rg_i64 n, RG_GLOBAL float* out) {
    RG_GRID_STRIDE(i, n) {
        out[i] = a[i] + b[i];
    }
}

RG_KERNEL rg_softcap(RG_GLOBAL float* x, rg_i64 n, float cap) {
    RG_GRID_STRIDE(i, n) {
        x[i] = cap * RG_TANH(x[i] / cap);
    }
}

RG_KERNEL rg_fill(RG_GLOBAL float* x, rg_i64 n, float value) {
    RG_GRID_STRIDE(i, n) {
        x[i] = value;
    }
}

/* ------------------------------------------------------------------ recurrent block */

#define RG_CONV_MAXK 8

/*
 * Causal depthwise conv1d over time with carried state, one thread per (sequence, channel), looping over the
 * call's tokens: history in registers, the state ([batch, (K-1)*C], oldest first) read once and written once.
 */
RG_KERNEL rg_conv1d(const RG_GLOBAL float* RG_RESTRICT x, int batch, int len, int c, int k,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, int wFmt, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int bFmt,
        RG_GLOBAL float* RG_RESTRICT state, RG_GLOBAL float* RG_RESTRICT out) {
    int i = RG_BID * RG_BDIM + RG_TID;
    if (i >= batch * c) {
        return;
    }
    int s = i / c;
    int ch = i % c;
    int hist = k - 1;
    float wt[RG_CONV_MAXK];
    float h[RG_CONV_MAXK];
#pragma unroll
    for (int j = 0; j < RG_CONV_MAXK; j++) {
        wt[j] = j < k ? rg_dense(w, wFmt, (rg_i64) ch * k + j) : 0.0f;
        h[j] = j < hist ? state[((rg_i64) s * hist + j) * c + ch] : 0.0f;
    }
    float b = rg_dense(bias, bFmt, ch);
    for (int t = 0; t < len; t++) {
        rg_i64 at = ((rg_i64) s * len + t) * c + ch;
        float xt = x[at];
        float acc = b;
#pragma unroll
        for (int j = 0; j < RG_CONV_MAXK; j++) {
            if (j < hist) {
                acc = RG_FMA(wt[j], h[j], acc);
            } else if (j == hist) {
                acc = RG_FMA(wt[j], xt, acc);
            }
        }
        out[at] = acc;
#pragma unroll
        for (int j = 0; j < RG_CONV_MAXK - 1; j++) {
            if (j < hist - 1) {
                h[j] = h[j + 1];
            }
        }
#pragma unroll
        for (int j = 0; j < RG_CONV_MAXK; j++) {
            if (j == hist - 1) {
                h[j] = xt;
            }
        }
    }
#pragma unroll
    for (int j = 0; j < RG_CONV_MAXK; j++) {
        if (j < hist) {
            state[((rg_i64) s * hist + j) * c + ch] = h[j];
        }
    }
}

#define RG_LRU_MAXBW 1024

/*
 * The RG-LRU over all of the call's tokens in ONE launch. Grid (blocks, batch): one block of threads per
 * diagonal gate block and sequence, one thread per channel of the block (blockDim = bw rounded up to 32). Time
 * runs inside: at each step the block stages x's gate-block slice in shared memory, every thread computes its
 * channel's input and recurrent gates (x @ W[h], W is [in, out]) and advances its h, which stays in a register.
 */
RG_KERNEL rg_rglru(const RG_GLOBAL float* RG_RESTRICT x, const RG_GLOBAL int* RG_RESTRICT starts, int len, int width,
        int bw, const RG_GLOBAL rg_u8* RG_RESTRICT wIn, int wInFmt, const RG_GLOBAL rg_u8* RG_RESTRICT bIn, int bInFmt,
        const RG_GLOBAL rg_u8* RG_RESTRICT wRec, int wRecFmt, const RG_GLOBAL rg_u8* RG_RESTRICT bRec, int bRecFmt,
        const RG_GLOBAL rg_u8* RG_RESTRICT lambda, int lambdaFmt, RG_GLOBAL float* RG_RESTRICT state,
        RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float xs[RG_LRU_MAXBW];
    int blk = RG_BID;
    int s = RG_BID_Y;
    int j = RG_TID;
    int live = j < bw;
    int jj = live ? j : 0;
    int ch = blk * bw + jj;
    float lam = rg_dense(lambda, lambdaFmt, ch);
    float sp = lam > 20.0f ? lam : RG_LOG1P(RG_EXP(lam));
    float bx = rg_dense(bIn, bInFmt, ch);
    float ba = rg_dense(bRec, bRecFmt, ch);
    float h = state[(rg_i64) s * width + ch];
    int start = starts[s];
    rg_i64 wBase = (rg_i64) blk * bw * bw + jj;
    for (int t = 0; t < len; t++) {
        rg_i64 row = (rg_i64) s * len + t;
        RG_SYNC();
        for (int i = j; i < bw; i += RG_BDIM) {
            xs[i] = x[row * width + (rg_i64) blk * bw + i];
        }
        RG_SYNC();
        float gx = bx;
        float ga = ba;
        for (int i = 0; i < bw; i++) {
            float xi = xs[i];
            gx = RG_FMA(xi, rg_dense(wIn, wInFmt, wBase + (rg_i64) i * bw), gx);
            ga = RG_FMA(xi, rg_dense(wRec, wRecFmt, wBase + (rg_i64) i * bw), ga);
        }
        float gateX = 1.0f / (1.0f + RG_EXP(-gx));
        float gateA = 1.0f / (1.0f + RG_EXP(-ga));
        float logA = -8.0f * gateA * sp;
        float a = RG_EXP(logA);
        float a2 = RG_EXP(2.0f * logA);
        int reset = start + t == 0;
        float mult = reset ? 1.0f : RG_SQRT(1.0f - a2);
        float xn = xs[jj] * gateX * mult;
        h = reset ? xn : a * h + xn;
        if (live) {
            out[row * width + ch] = h;
        }
    }
    if (live) {
        state[(rg_i64) s * width + ch] = h;
    }
}

/* ------------------------------------------------------------------ attention block */

/*
 * Rotary embedding in place, NeoX pairing (j, j + rotaryDim/2) on the first rotaryDim dims of each head; one
 * thread per (row, head, pair). invFreq[j] comes from the host (float32, exactly as the reference rounds it).
 */
RG_KERNEL rg_rope(RG_GLOBAL float* RG_RESTRICT x, const RG_GLOBAL int* RG_RESTRICT starts, int rows, int len, int heads,
        int headDim, int halfRot, const RG_GLOBAL float* RG_RESTRICT invFreq) {
    int i = RG_BID * RG_BDIM + RG_TID;
    int per = heads * halfRot;
    if (i >= rows * per) {
        return;
    }
    int row = i / per;
    int hd = (i % per) / halfRot;
    int j = i % halfRot;
    int pos = starts[row / len] + row % len;
    float angle = (float) pos * invFreq[j];
    float c = RG_COS(angle);
    float sn = RG_SIN(angle);
    rg_i64 base = (rg_i64) row * heads * headDim + (rg_i64) hd * headDim;
    float first = x[base + j];
    float second = x[base + j + halfRot];
    x[base + j] = first * c - second * sn;
    x[base + j + halfRot] = second * c + first * sn;
}

#define ATT_THREADS 128
#define ATT_MAXD 4
#define ATT_MAXHD (ATT_THREADS * ATT_MAXD)

/* Where position p's key/value row for kvHead lives: this call's rows, or the ring cache (slot p % window). */
RG_DEVICE const RG_GLOBAL float* rg_kv_row(const RG_GLOBAL float* cur, const RG_GLOBAL float* cache, int p, int start,
        int s, int len, int kvCols, int kvHead, int headDim, int window) {
    if (p >= start) {
        return cur + ((rg_i64) s * len + (p - start)) * kvCols + (rg_i64) kvHead * headDim;
    }
    return cache + (rg_i64) s * window * kvCols + (rg_i64) (p % window) * kvCols + (rg_i64) kvHead * headDim;
}

/*
 * Local MQA attention, DeepMind window: the query at position t sees keys max(0, t-W) .. t. Grid (rows, heads),
 * ATT_THREADS threads: keys are scored ATT_THREADS at a time (one per thread), with an online softmax across
 * chunks; each thread owns up to ATT_MAXD output dims. The caches are only read here (rg_kv_update writes them).
 */
RG_KERNEL rg_attention(const RG_GLOBAL float* RG_RESTRICT q, const RG_GLOBAL float* RG_RESTRICT k,
        const RG_GLOBAL float* RG_RESTRICT v, const RG_GLOBAL int* RG_RESTRICT starts, int len, int heads, int kvHeads,
        int headDim, int window, float scale, const RG_GLOBAL float* RG_RESTRICT kc,
        const RG_GLOBAL float* RG_RESTRICT vc, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float qs[ATT_MAXHD];
    RG_SHARED float ps[ATT_THREADS];
    RG_SHARED float red[ATT_THREADS];
    int t = RG_TID;
    int row = RG_BID;
    int head = RG_BID_Y;
    int s = row / len;
    int start = starts[s];
    int pos = start + row % len;
    int first = pos - window > 0 ? pos - window : 0;
    int kvHead = head / (heads / kvHeads);
    int kvCols = kvHeads * headDim;
    rg_i64 qBase = ((rg_i64) row * heads + head) * headDim;
    for (int d = t; d < headDim; d += RG_BDIM) {
        qs[d] = q[qBase + d];
    }
    RG_SYNC();
    float m = -RG_INF;
    float l = 0.0f;
    float acc[ATT_MAXD];
    for (int i = 0; i < ATT_MAXD; i++) {
        acc[i] = 0.0f;
    }
    for (int p0 = first; p0 <= pos; p0 += ATT_THREADS) {
        int p = p0 + t;
        float sc = -RG_INF;
        if (p <= pos) {
            const RG_GLOBAL float* kr = rg_kv_row(k, kc, p, start, s, len, kvCols, kvHead, headDim, window);
            float dot = 0.0f;
            for (int d = 0; d < headDim; d++) {
                dot = RG_FMA(qs[d], kr[d], dot);
            }
            sc = dot * scale;
        }
        float mNew = RG_FMAX(m, rg_block_max(sc, red));
        float e = p <= pos ? RG_EXP(sc - mNew) : 0.0f;
        float corr = RG_EXP(m - mNew);
        ps[t] = e;
        l = l * corr + rg_block_sum(e, red);
        int cnt = pos - p0 + 1 < ATT_THREADS ? pos - p0 + 1 : ATT_THREADS;
        for (int i = 0; i < ATT_MAXD; i++) {
            int d = t + i * ATT_THREADS;
            if (d < headDim) {
                float a = acc[i] * corr;
                for (int jj = 0; jj < cnt; jj++) {
                    const RG_GLOBAL float* vr = rg_kv_row(v, vc, p0 + jj, start, s, len, kvCols, kvHead, headDim, window);
                    a = RG_FMA(ps[jj], vr[d], a);
                }
                acc[i] = a;
            }
        }
        m = mNew;
        RG_SYNC();
    }
    for (int i = 0; i < ATT_MAXD; i++) {
        int d = t + i * ATT_THREADS;
        if (d < headDim) {
            out[qBase + d] = acc[i] / l;
        }
    }
}

/* After the attention of a call: the last min(len, W) positions of each sequence go to slot p % W of the caches. */
RG_KERNEL rg_kv_update(const RG_GLOBAL float* RG_RESTRICT k, const RG_GLOBAL float* RG_RESTRICT v,
        const RG_GLOBAL int* RG_RESTRICT starts, int batch, int len, int window, int kvCols, RG_GLOBAL float* RG_RESTRICT kc,
        RG_GLOBAL float* RG_RESTRICT vc) {
    int keep = len < window ? len : window;
    rg_i64 per = (rg_i64) keep * kvCols;
    RG_GRID_STRIDE(i, (rg_i64) batch * per) {
        int s = (int) (i / per);
        int j = (int) ((i % per) / kvCols);
        int col = (int) (i % kvCols);
        int t = len - keep + j;
        int p = starts[s] + t;
        rg_i64 src = ((rg_i64) s * len + t) * kvCols + col;
        rg_i64 dst = (rg_i64) s * window * kvCols + (rg_i64) (p % window) * kvCols + col;
        kc[dst] = k[src];
        vc[dst] = v[src];
    }
}

/* ------------------------------------------------------------------ selection */

/* Index of each row's largest value, lowest index on ties; one 256-thread block per row. */
RG_KERNEL rg_argmax(const RG_GLOBAL float* RG_RESTRICT x, int cols, RG_GLOBAL int* RG_RESTRICT dst) {
    RG_SHARED float bv[256];
    RG_SHARED int bi[256];
    int t = RG_TID;
    const RG_GLOBAL float* xr = x + (rg_i64) RG_BID * cols;
    float best = -RG_INF;
    int at = 0x7fffffff;
    for (int c = t; c < cols; c += RG_BDIM) {
        float v = xr[c];
        if (v > best || (v == best && c < at)) {
            best = v;
            at = c;
        }
    }
    bv[t] = best;
    bi[t] = at;
    RG_SYNC();
    for (int o = RG_BDIM >> 1; o > 0; o >>= 1) {
        if (t < o) {
            float v = bv[t + o];
            int c = bi[t + o];
            if (v > bv[t] || (v == bv[t] && c < bi[t])) {
                bv[t] = v;
                bi[t] = c;
            }
        }
        RG_SYNC();
    }
    if (t == 0) {
        dst[RG_BID] = bi[0] == 0x7fffffff ? 0 : bi[0];
    }
}

/*
 * The k largest values of each row in descending Float.compare order, lowest index first on ties; one 256-thread
 * block per row, k rounds of a block-wide maximum over the elements that rank below the previous pick (no
 * marks, no sort buffer: the order key (value, -index) is strict).
 */
RG_KERNEL rg_topk(const RG_GLOBAL float* RG_RESTRICT x, int cols, int k, RG_GLOBAL int* RG_RESTRICT ids,
        RG_GLOBAL float* RG_RESTRICT vals) {
    RG_SHARED int bk[256];
    RG_SHARED int bi[256];
    int t = RG_TID;
    const RG_GLOBAL float* xr = x + (rg_i64) RG_BID * cols;
    int pk = 0;
    int pi = -1;
    for (int it = 0; it < k; it++) {
        int ck = (int) 0x80000000;
        int ci = 0x7fffffff;
        for (int c = t; c < cols; c += RG_BDIM) {
            int key = rg_sortable(xr[c]);
            int eligible = it == 0 || key < pk || (key == pk && c > pi);
            if (eligible && (key > ck || (key == ck && c < ci))) {
                ck = key;
                ci = c;
            }
        }
        bk[t] = ck;
        bi[t] = ci;
        RG_SYNC();
        for (int o = RG_BDIM >> 1; o > 0; o >>= 1) {
            if (t < o) {
                int key = bk[t + o];
                int c = bi[t + o];
                if (key > bk[t] || (key == bk[t] && c < bi[t])) {
                    bk[t] = key;
                    bi[t] = c;
                }
            }
            RG_SYNC();
        }
        pk = bk[0];
        pi = bi[0];
        if (t == 0) {
            ids[(rg_i64) RG_BID * k + it] = pi;
            vals[(rg_i64) RG_BID * k + it] = xr[pi];
        }
        RG_SYNC();
    }
}
