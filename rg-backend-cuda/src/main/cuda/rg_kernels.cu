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

/*
 * Decode matvecs: one 32-thread group (warp) per weight row, MV_ROWS rows per block, up to MV_MAXN activation rows
 * per pass, so a batch of up to MV_MAXN sequences reads every weight once. Each thread keeps MV_UNROLL 16-byte weight
 * loads in flight (issued before any arithmetic), which is what keeps HBM busy when a grid has only a few hundred
 * blocks. Activations are read as 16-byte vectors too: lanes read consecutive 16-byte pieces, so one warp-wide load
 * touches 4 cache lines instead of the 8 that a scalar read strided by the chunk width did (that L1 traffic, 8 scalar
 * loads per 16 weight bytes, was what held the first version to 0.8-1.4 TB/s on an H200).
 *
 * Four kernels per weight format share one body (the RG_MV_<FMT>_* macros below), so a decode step needs fewer
 * launches without a second copy of any format's arithmetic:
 *   rg_matvec_<fmt>        one weight;
 *   rg_matvec_group_<fmt>  up to 3 weights of one format that read the same activations (linear_y + linear_x,
 *                          q + k + v, gate + up): the grid is the parts' blocks one after the other, so the group
 *                          is one launch;
 *   rg_matvec_gelu_<fmt>   one weight whose activations are gelu(gate) * up (the MLP's down projection): each block
 *                          computes them once into shared memory, a tile of columns at a time, so the elementwise
 *                          gelu_mul launch disappears and no warp repeats the tanh of another;
 *   rg_matvec_group_norm_<fmt>  a group whose activations are rmsNorm(x) (the groups that start a block): each block
 *                          stages the normalised rows the same way, so the norm launch disappears.
 * Every matvec can also add its result into the output (RG_EPI_ADD): the residual add after a block's output
 * projection, so the add launch disappears too. A decode layer is then 7 launches instead of 9.
 */
#define MV_THREADS 256
#define MV_ROWS 8
#define MV_MAXN 8
#define MV_UNROLL 4
/* Floats of shared memory that stage gelu(gate) * up in rg_matvec_gelu_* (pass rows x a tile of columns; 32 KB). */
#define MV_STAGE 8192

/*
 * What a matmul kernel does with a result s = x . w[row] (every matvec, the tiled and the tensor-core kernel take
 * these flags as their `epilogue` argument): RG_EPI_BIAS adds bias[row] first, RG_EPI_ADD then adds s to what `out`
 * holds (the residual add after a block's output projection: out + (x . w + bias), rounded as a matmul into a
 * scratch tensor followed by rg_add would round it).
 */
#define RG_EPI_BIAS 1
#define RG_EPI_ADD 2

/* Writes one result under the epilogue flags (bias already added). */
RG_DEVICE void rg_epi_store(RG_GLOBAL float* out, rg_i64 i, float s, int epilogue) {
    out[i] = (epilogue & RG_EPI_ADD) ? out[i] + s : s;
}

/* gelu_pytorch_tanh. */
RG_DEVICE float rg_gelu(float x) {
    float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + RG_TANH(inner));
}

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

/* acc[m] += (w0..w3) . x[xRow0 + m][k .. k+3] for m < n; x read as one 16-byte vector (k and in multiples of 4). */
RG_DEVICE void rg_mv_fma4(float* acc, float w0, float w1, float w2, float w3, const RG_GLOBAL float* x, int xRow0,
        int in, int n, int k) {
    RG_UNROLL
    for (int m = 0; m < MV_MAXN; m++) {
        if (m < n) {
            rg_f32x4 xv = *(const RG_GLOBAL rg_f32x4*) (x + (rg_i64) (xRow0 + m) * in + k);
            acc[m] = RG_FMA(w3, xv.w, RG_FMA(w2, xv.z, RG_FMA(w1, xv.y, RG_FMA(w0, xv.x, acc[m]))));
        }
    }
}

/* acc[m] += w * x[xRow0 + m][k] for m < n (the scalar tail of rows whose width is not a multiple of the chunk). */
RG_DEVICE void rg_mv_fma1(float* acc, float w, const RG_GLOBAL float* x, int xRow0, int in, int n, int k) {
    RG_UNROLL
    for (int m = 0; m < MV_MAXN; m++) {
        if (m < n) {
            acc[m] = RG_FMA(w, x[(rg_i64) (xRow0 + m) * in + k], acc[m]);
        }
    }
}

/* The same two from staged activations: row m of the tile at xs[m * tile], kk = k - (the tile's first column). */
RG_DEVICE void rg_mv_fma4s(float* acc, float w0, float w1, float w2, float w3, const RG_LOCAL float* xs, int tile,
        int n, int kk) {
    RG_UNROLL
    for (int m = 0; m < MV_MAXN; m++) {
        if (m < n) {
            rg_f32x4 xv = *(const RG_LOCAL rg_f32x4*) (xs + m * tile + kk);
            acc[m] = RG_FMA(w3, xv.w, RG_FMA(w2, xv.z, RG_FMA(w1, xv.y, RG_FMA(w0, xv.x, acc[m]))));
        }
    }
}

RG_DEVICE void rg_mv_fma1s(float* acc, float w, const RG_LOCAL float* xs, int tile, int n, int kk) {
    RG_UNROLL
    for (int m = 0; m < MV_MAXN; m++) {
        if (m < n) {
            acc[m] = RG_FMA(w, xs[m * tile + kk], acc[m]);
        }
    }
}

/* Reduces each row's 32 partial sums and writes out[xRow0 + m][row] (+ bias). Every thread calls it. */
RG_DEVICE void rg_mv_store(float* acc, int row, int outDim, int n, int xRow0, const RG_GLOBAL rg_u8* bias, int biasFmt,
        int epilogue, RG_GLOBAL float* out, RG_LOCAL float* red) {
    int lane = RG_TID & 31;
    RG_UNROLL
    for (int m = 0; m < MV_MAXN; m++) {
#ifdef RG_CUDA
        if (m >= n) {
            break; /* n is uniform; only the OpenCL reduction (it has barriers) must run for every m */
        }
#endif
        float s = rg_sum32(acc[m], red);
        if (m < n && lane == 0 && row < outDim) {
            if (epilogue & RG_EPI_BIAS) {
                s += rg_dense(bias, biasFmt, row);
            }
            rg_epi_store(out, (rg_i64) (xRow0 + m) * outDim + row, s, epilogue);
        }
    }
}

/* Columns per tile of staged activations for n rows: a multiple of 32 (every chunk width), n * tile <= MV_STAGE. */
RG_DEVICE int rg_mv_tile(int n, int in) {
    int most = (MV_STAGE / n) & ~31;
    int need = (in + 31) & ~31;
    return need < most ? need : most;
}

/*
 * Stages xs[m * tile + k - k0] = gelu(gate[xRow0 + m][k]) * up[xRow0 + m][k] for m < n, k0 <= k < k1, after every
 * warp is done with the previous tile. Every thread calls it.
 */
RG_DEVICE void rg_mv_stage(const RG_GLOBAL float* gate, const RG_GLOBAL float* up, int xRow0, int n, int in, int k0,
        int k1, int tile, RG_LOCAL float* xs) {
    RG_SYNC();
    for (int m = 0; m < n; m++) {
        rg_i64 base = (rg_i64) (xRow0 + m) * in;
        for (int k = k0 + RG_TID; k < k1; k += MV_THREADS) {
            xs[m * tile + (k - k0)] = rg_gelu(gate[base + k]) * up[base + k];
        }
    }
    RG_SYNC();
}

/* Warp (RG_TID >> 5) of block blk owns weight row `row` (r: the same, clamped into the weight for the loads). */
#define RG_MV_PROLOGUE(blk)                                              \
    int lane = RG_TID & 31;                                              \
    int row = (blk) * MV_ROWS + (RG_TID >> 5);                           \
    int r = row < outDim ? row : outDim - 1;                             \
    float acc[MV_MAXN];                                                  \
    RG_UNROLL                                                            \
    for (int m = 0; m < MV_MAXN; m++) {                                  \
        acc[m] = 0.0f;                                                   \
    }

/*
 * The chunk loop shared by every matvec: thread `lane` takes chunks cBegin + lane, + 32, ... below cEnd; MV_UNROLL
 * loads are issued before their arithmetic. Out-of-range chunks of the last round load a valid chunk again and skip
 * the arithmetic. BODY(q, c, X4) consumes chunk c held in q, handing its weights to the activation source X4.
 */
#define RG_MV_CHUNKS(wr, cBegin, cEnd, BODY, X4)                                         \
    for (int c0 = (cBegin) + lane; c0 < (cEnd); c0 += 32 * MV_UNROLL) {                  \
        rg_u32x4 qv[MV_UNROLL];                                                          \
        RG_UNROLL                                                                        \
        for (int u = 0; u < MV_UNROLL; u++) {                                            \
            int cu = c0 + 32 * u;                                                        \
            qv[u] = ((const RG_GLOBAL rg_u32x4*) (wr))[cu < (cEnd) ? cu : (cEnd) - 1];   \
        }                                                                                \
        RG_UNROLL                                                                        \
        for (int u = 0; u < MV_UNROLL; u++) {                                            \
            int c = c0 + 32 * u;                                                         \
            if (c < (cEnd)) {                                                            \
                BODY(qv[u], c, X4)                                                       \
            }                                                                            \
        }                                                                                \
    }

/*
 * Columns [kBegin, kEnd) of weight row r: whole 16-byte chunks of E elements up to vecEnd (the row's vectorisable
 * part: all of it when rows and scale blocks are aligned, else nothing), element by element (ELEM(k)) beyond.
 * kBegin is 0 or a tile start (a multiple of 32, so of every E).
 */
#define RG_MV_COLS(wr, E, vecEnd, kBegin, kEnd, BODY, X4, ELEM, X1)                      \
    {                                                                                    \
        int cEnd_ = ((kEnd) < (vecEnd) ? (kEnd) : (vecEnd)) / (E);                       \
        RG_MV_CHUNKS(wr, (kBegin) / (E), cEnd_, BODY, X4)                                \
        for (int k = ((kBegin) > (vecEnd) ? (kBegin) : (vecEnd)) + lane; k < (kEnd); k += 32) { \
            X1(ELEM(k), k)                                                               \
        }                                                                                \
    }

/* Activation sources: the pass's rows of x in global memory, or the staged tile (columns k0 .. of xs). */
#define RG_MV_GX4(w0, w1, w2, w3, k) rg_mv_fma4(acc, w0, w1, w2, w3, x, xRow0, in, n, k);
#define RG_MV_GX1(w, k) rg_mv_fma1(acc, w, x, xRow0, in, n, k);
#define RG_MV_SX4(w0, w1, w2, w3, k) rg_mv_fma4s(acc, w0, w1, w2, w3, xs, tile, n, (k) - k0);
#define RG_MV_SX1(w, k) rg_mv_fma1s(acc, w, xs, tile, n, (k) - k0);

/* A staging kernel's shared memory: the reduction scratch and the staged activations (16-byte aligned). */
#define RG_MV_GELU_SHARED                                                \
    RG_SHARED float red[MV_THREADS];                                     \
    RG_SHARED rg_f32x4 xs4[MV_STAGE / 4];

/* A gelu kernel's column loop: stage a tile of gelu(gate) * up, then COLS over it (every thread runs every tile). */
#define RG_MV_GELU_TILES(COLS)                                           \
    RG_LOCAL float* xs = (RG_LOCAL float*) xs4;                          \
    int tile = rg_mv_tile(n, in);                                        \
    for (int k0 = 0; k0 < in; k0 += tile) {                              \
        int k1 = in - k0 < tile ? in : k0 + tile;                        \
        rg_mv_stage(gate, up, xRow0, n, in, k0, k1, tile, xs);           \
        COLS(k0, k1, RG_MV_SX4, RG_MV_SX1)                               \
    }

/*
 * inv[m] = 1 / sqrt(mean(x[xRow0 + m]^2) + eps) for m < n: the same per-thread sums and block reduction as rg_rmsnorm
 * (both run 256 threads), so the rows a norm kernel stages are bit for bit what rg_rmsnorm writes. Every thread
 * calls it; inv is published by the barrier that starts the first tile.
 */
RG_DEVICE void rg_mv_norm_inv(const RG_GLOBAL float* x, int xRow0, int n, int in, float eps, RG_LOCAL float* inv,
        RG_LOCAL float* red) {
    for (int m = 0; m < n; m++) {
        const RG_GLOBAL float* xr = x + (rg_i64) (xRow0 + m) * in;
        float ss = 0.0f;
        for (int c = RG_TID; c < in; c += RG_BDIM) {
            ss = RG_FMA(xr[c], xr[c], ss);
        }
        ss = rg_block_sum(ss, red);
        if (RG_TID == 0) {
            inv[m] = 1.0f / RG_SQRT(ss / (float) in + eps);
        }
    }
}

/* Stages xs[m * tile + k - k0] = rmsNorm(x[xRow0 + m])[k] (rg_rmsnorm's expression) for m < n, k0 <= k < k1. */
RG_DEVICE void rg_mv_stage_norm(const RG_GLOBAL float* x, int xRow0, int n, int in, int k0, int k1, int tile,
        RG_LOCAL float* xs, const RG_GLOBAL rg_u8* nw, int nwFmt, const RG_LOCAL float* inv) {
    RG_SYNC();
    for (int m = 0; m < n; m++) {
        rg_i64 base = (rg_i64) (xRow0 + m) * in;
        for (int k = k0 + RG_TID; k < k1; k += MV_THREADS) {
            xs[m * tile + (k - k0)] = x[base + k] * inv[m] * (1.0f + rg_dense(nw, nwFmt, k));
        }
    }
    RG_SYNC();
}

/* A norm kernel's column loop: the rows' inverse RMS once, then tiles of normalised x and COLS over each. */
#define RG_MV_NORM_TILES(COLS)                                           \
    RG_LOCAL float* xs = (RG_LOCAL float*) xs4;                          \
    int tile = rg_mv_tile(n, in);                                        \
    rg_mv_norm_inv(x, xRow0, n, in, eps, inv, red);                      \
    for (int k0 = 0; k0 < in; k0 += tile) {                              \
        int k1 = in - k0 < tile ? in : k0 + tile;                        \
        rg_mv_stage_norm(x, xRow0, n, in, k0, k1, tile, xs, nw, nwFmt, inv); \
        COLS(k0, k1, RG_MV_SX4, RG_MV_SX1)                               \
    }

/* A norm kernel's shared memory: a staging kernel's and the rows' inverse RMS. */
#define RG_MV_NORM_SHARED                                                \
    RG_MV_GELU_SHARED                                                    \
    RG_SHARED float inv[MV_MAXN];

/* The parameters a norm kernel takes after x, xRow0, n and in: the norm's scale (dense, its format) and epsilon. */
#define RG_MV_NORM_PARAMS const RG_GLOBAL rg_u8* RG_RESTRICT nw, int nwFmt, float eps

/*
 * The body of rg_matvec_group_norm_<fmt>: part p's weight w (of type T) and, in FORMAT_LOCALS, its format's other
 * locals (scales, code book), then the rows staged normalised and the format's COLS over them.
 */
#define RG_MV_GROUP_NORM_BODY(T, FORMAT_LOCALS, SETUP, COLS)                  \
    RG_MV_NORM_SHARED                                                         \
    RG_MV_GROUP_PART                                                          \
    int outDim = RG_PICK(outDim0, outDim1, outDim2);                          \
    const RG_GLOBAL T* w = RG_PICK(w0, w1, w2);                               \
    FORMAT_LOCALS                                                             \
    RG_MV_PROLOGUE(blk)                                                       \
    SETUP                                                                     \
    RG_MV_NORM_TILES(COLS)                                                    \
    rg_mv_store(acc, row, outDim, n, xRow0, RG_MV_PICK_BIAS_OUT, red);

/* A group kernel's part p and block blk in it: the parts' ceil(outDim_i / MV_ROWS) blocks come one after another. */
#define RG_MV_GROUP_PART                                                 \
    int b0_ = (outDim0 + MV_ROWS - 1) / MV_ROWS;                         \
    int b1_ = (outDim1 + MV_ROWS - 1) / MV_ROWS;                         \
    int p = RG_BID < b0_ ? 0 : (RG_BID < b0_ + b1_ ? 1 : 2);             \
    int blk = RG_BID - (p == 0 ? 0 : (p == 1 ? b0_ : b0_ + b1_));
#define RG_PICK(a0, a1, a2) (p == 0 ? (a0) : (p == 1 ? (a1) : (a2)))

/* The per-part parameters of a group kernel (weight type T, and for quantised formats a scale pointer). */
#define RG_MV_PART(i, T)                                                                                         \
    int outDim##i, const RG_GLOBAL T* RG_RESTRICT w##i, const RG_GLOBAL rg_u8* RG_RESTRICT bias##i, int biasFmt##i, \
            int epilogue##i, RG_GLOBAL float* RG_RESTRICT out##i
#define RG_MV_QPART(i, S)                                                                                        \
    int outDim##i, const RG_GLOBAL rg_u8* RG_RESTRICT w##i, const RG_GLOBAL S* RG_RESTRICT aux##i,                \
            const RG_GLOBAL rg_u8* RG_RESTRICT bias##i, int biasFmt##i, int epilogue##i, RG_GLOBAL float* RG_RESTRICT out##i
#define RG_MV_PICK_BIAS_OUT                                                                                     \
    RG_PICK(bias0, bias1, bias2), RG_PICK(biasFmt0, biasFmt1, biasFmt2), RG_PICK(epilogue0, epilogue1, epilogue2),   \
            RG_PICK(out0, out1, out2)

/* ---- float32 weights: 4 per 16-byte load */
#define RG_MV_F32_BODY(q, c, X4) \
    X4(RG_AS_FLOAT((q).x), RG_AS_FLOAT((q).y), RG_AS_FLOAT((q).z), RG_AS_FLOAT((q).w), (c) << 2)
#define RG_MV_F32_ELEM(k) wr[k]
#define RG_MV_F32_SETUP                                                  \
    const RG_GLOBAL float* wr = w + (rg_i64) r * in;                     \
    int vecEnd = (in & 3) == 0 ? in : 0; /* vector loads only when every row starts aligned */
#define RG_MV_F32_COLS(kBegin, kEnd, X4, X1) RG_MV_COLS(wr, 4, vecEnd, kBegin, kEnd, RG_MV_F32_BODY, X4, RG_MV_F32_ELEM, X1)

/* out[xRow0+m][row] = x[xRow0+m] . w[row] (+ bias) for m < n <= MV_MAXN and the MV_ROWS rows of block blk. */
RG_DEVICE void rg_mv_f32(const RG_GLOBAL float* x, int xRow0, int n, int in, int outDim, const RG_GLOBAL float* w,
        int blk, const RG_GLOBAL rg_u8* bias, int biasFmt, int epilogue, RG_GLOBAL float* out, RG_LOCAL float* red) {
    RG_MV_PROLOGUE(blk)
    RG_MV_F32_SETUP
    RG_MV_F32_COLS(0, in, RG_MV_GX4, RG_MV_GX1)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

/* Decode matvec, float32 weights; grid = ceil(outDim / MV_ROWS). */
RG_KERNEL rg_matvec_f32(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL float* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt,
        int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float red[MV_THREADS];
    rg_mv_f32(x, xRow0, n, in, outDim, w, RG_BID, bias, biasFmt, epilogue, out, red);
}

/* Up to 3 float32 matvecs of one input in one launch; grid = the sum of the parts' ceil(outDim_i / MV_ROWS). */
RG_KERNEL rg_matvec_group_f32(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, RG_MV_PART(0, float),
        RG_MV_PART(1, float), RG_MV_PART(2, float)) {
    RG_SHARED float red[MV_THREADS];
    RG_MV_GROUP_PART
    rg_mv_f32(x, xRow0, n, in, RG_PICK(outDim0, outDim1, outDim2), RG_PICK(w0, w1, w2), blk, RG_MV_PICK_BIAS_OUT, red);
}

/* out = (gelu(gate) * up) @ w^T (+ bias) for the pass's rows, float32 weights; grid = ceil(outDim / MV_ROWS). */
RG_KERNEL rg_matvec_gelu_f32(const RG_GLOBAL float* RG_RESTRICT gate, const RG_GLOBAL float* RG_RESTRICT up, int xRow0,
        int n, int in, int outDim, const RG_GLOBAL float* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias,
        int biasFmt, int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_GELU_SHARED
    RG_MV_PROLOGUE(RG_BID)
    RG_MV_F32_SETUP
    RG_MV_GELU_TILES(RG_MV_F32_COLS)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

/* rg_matvec_group_f32 of rmsNorm(x): each block normalises the pass's rows while it stages them (no norm launch). */
RG_KERNEL rg_matvec_group_norm_f32(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, RG_MV_NORM_PARAMS,
        RG_MV_PART(0, float), RG_MV_PART(1, float), RG_MV_PART(2, float)) {
    RG_MV_GROUP_NORM_BODY(float, , RG_MV_F32_SETUP, RG_MV_F32_COLS)
}

/* ---- bfloat16 weights: 8 per 16-byte load */
/* bf16 -> f32 of the low and the high half of a little-endian word: a shift or a mask, no conversion. */
#define RG_BF16_LO(u) RG_AS_FLOAT((u) << 16)
#define RG_BF16_HI(u) RG_AS_FLOAT((u) & 0xffff0000u)

#define RG_MV_BF16_BODY(q, c, X4)                                                                         \
    X4(RG_BF16_LO((q).x), RG_BF16_HI((q).x), RG_BF16_LO((q).y), RG_BF16_HI((q).y), (c) << 3)               \
    X4(RG_BF16_LO((q).z), RG_BF16_HI((q).z), RG_BF16_LO((q).w), RG_BF16_HI((q).w), ((c) << 3) + 4)
#define RG_MV_BF16_ELEM(k) rg_bf16(wr[k])
#define RG_MV_BF16_SETUP                                                 \
    const RG_GLOBAL rg_u16* wr = w + (rg_i64) r * in;                    \
    int vecEnd = (in & 7) == 0 ? in : 0;
#define RG_MV_BF16_COLS(kBegin, kEnd, X4, X1) RG_MV_COLS(wr, 8, vecEnd, kBegin, kEnd, RG_MV_BF16_BODY, X4, RG_MV_BF16_ELEM, X1)

RG_DEVICE void rg_mv_bf16(const RG_GLOBAL float* x, int xRow0, int n, int in, int outDim, const RG_GLOBAL rg_u16* w,
        int blk, const RG_GLOBAL rg_u8* bias, int biasFmt, int epilogue, RG_GLOBAL float* out, RG_LOCAL float* red) {
    RG_MV_PROLOGUE(blk)
    RG_MV_BF16_SETUP
    RG_MV_BF16_COLS(0, in, RG_MV_GX4, RG_MV_GX1)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

/* Decode matvec, bfloat16 weights. */
RG_KERNEL rg_matvec_bf16(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL rg_u16* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt,
        int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float red[MV_THREADS];
    rg_mv_bf16(x, xRow0, n, in, outDim, w, RG_BID, bias, biasFmt, epilogue, out, red);
}

RG_KERNEL rg_matvec_group_bf16(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, RG_MV_PART(0, rg_u16),
        RG_MV_PART(1, rg_u16), RG_MV_PART(2, rg_u16)) {
    RG_SHARED float red[MV_THREADS];
    RG_MV_GROUP_PART
    rg_mv_bf16(x, xRow0, n, in, RG_PICK(outDim0, outDim1, outDim2), RG_PICK(w0, w1, w2), blk, RG_MV_PICK_BIAS_OUT, red);
}

RG_KERNEL rg_matvec_gelu_bf16(const RG_GLOBAL float* RG_RESTRICT gate, const RG_GLOBAL float* RG_RESTRICT up, int xRow0,
        int n, int in, int outDim, const RG_GLOBAL rg_u16* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias,
        int biasFmt, int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_GELU_SHARED
    RG_MV_PROLOGUE(RG_BID)
    RG_MV_BF16_SETUP
    RG_MV_GELU_TILES(RG_MV_BF16_COLS)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

RG_KERNEL rg_matvec_group_norm_bf16(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, RG_MV_NORM_PARAMS,
        RG_MV_PART(0, rg_u16), RG_MV_PART(1, rg_u16), RG_MV_PART(2, rg_u16)) {
    RG_MV_GROUP_NORM_BODY(rg_u16, , RG_MV_BF16_SETUP, RG_MV_BF16_COLS)
}

/* ---- IEEE binary16 weights: 8 per 16-byte load */
#define RG_MV_F16_BODY(q, c, X4)                                                                                  \
    X4(rg_f16((q).x & 0xffffu), rg_f16((q).x >> 16), rg_f16((q).y & 0xffffu), rg_f16((q).y >> 16), (c) << 3)       \
    X4(rg_f16((q).z & 0xffffu), rg_f16((q).z >> 16), rg_f16((q).w & 0xffffu), rg_f16((q).w >> 16), ((c) << 3) + 4)
#define RG_MV_F16_ELEM(k) rg_f16(wr[k])
#define RG_MV_F16_SETUP RG_MV_BF16_SETUP
#define RG_MV_F16_COLS(kBegin, kEnd, X4, X1) RG_MV_COLS(wr, 8, vecEnd, kBegin, kEnd, RG_MV_F16_BODY, X4, RG_MV_F16_ELEM, X1)

RG_DEVICE void rg_mv_f16(const RG_GLOBAL float* x, int xRow0, int n, int in, int outDim, const RG_GLOBAL rg_u16* w,
        int blk, const RG_GLOBAL rg_u8* bias, int biasFmt, int epilogue, RG_GLOBAL float* out, RG_LOCAL float* red) {
    RG_MV_PROLOGUE(blk)
    RG_MV_F16_SETUP
    RG_MV_F16_COLS(0, in, RG_MV_GX4, RG_MV_GX1)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

/* Decode matvec, IEEE binary16 weights. */
RG_KERNEL rg_matvec_f16(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL rg_u16* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt,
        int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float red[MV_THREADS];
    rg_mv_f16(x, xRow0, n, in, outDim, w, RG_BID, bias, biasFmt, epilogue, out, red);
}

RG_KERNEL rg_matvec_group_f16(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, RG_MV_PART(0, rg_u16),
        RG_MV_PART(1, rg_u16), RG_MV_PART(2, rg_u16)) {
    RG_SHARED float red[MV_THREADS];
    RG_MV_GROUP_PART
    rg_mv_f16(x, xRow0, n, in, RG_PICK(outDim0, outDim1, outDim2), RG_PICK(w0, w1, w2), blk, RG_MV_PICK_BIAS_OUT, red);
}

RG_KERNEL rg_matvec_gelu_f16(const RG_GLOBAL float* RG_RESTRICT gate, const RG_GLOBAL float* RG_RESTRICT up, int xRow0,
        int n, int in, int outDim, const RG_GLOBAL rg_u16* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias,
        int biasFmt, int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_GELU_SHARED
    RG_MV_PROLOGUE(RG_BID)
    RG_MV_F16_SETUP
    RG_MV_GELU_TILES(RG_MV_F16_COLS)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

RG_KERNEL rg_matvec_group_norm_f16(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, RG_MV_NORM_PARAMS,
        RG_MV_PART(0, rg_u16), RG_MV_PART(1, rg_u16), RG_MV_PART(2, rg_u16)) {
    RG_MV_GROUP_NORM_BODY(rg_u16, , RG_MV_F16_SETUP, RG_MV_F16_COLS)
}

/* ---- blockwise symmetric int8: w = q * scale[row][k / blockSize] (scales f16 or f32: scaleFmt) */
/* Sign-extends byte b (0..3) of a 32-bit word. */
#define RG_SBYTE(word, b) ((float) (((int) ((word) << (24 - 8 * (b)))) >> 24))

/* The 4 int8 weights of one word, scaled, against columns k .. k+3. */
#define RG_I8_WORD(word, s, k, X4) \
    X4(RG_SBYTE(word, 0) * (s), RG_SBYTE(word, 1) * (s), RG_SBYTE(word, 2) * (s), RG_SBYTE(word, 3) * (s), k)

/* 16 weights per 16-byte load when blockSize is a multiple of 16 (one scale per load), else element by element. */
#define RG_MV_I8_BODY(q, c, X4)                                              \
    {                                                                        \
        float s = rg_dense(scales, scaleFmt, srow + ((c) << 4) / blockSize); \
        RG_I8_WORD((q).x, s, (c) << 4, X4)                                   \
        RG_I8_WORD((q).y, s, ((c) << 4) + 4, X4)                             \
        RG_I8_WORD((q).z, s, ((c) << 4) + 8, X4)                             \
        RG_I8_WORD((q).w, s, ((c) << 4) + 12, X4)                            \
    }
#define RG_MV_I8_ELEM(k) ((float) ((const RG_GLOBAL rg_i8*) wr)[k] * rg_dense(scales, scaleFmt, srow + (k) / blockSize))
#define RG_MV_I8_SETUP                                                               \
    const RG_GLOBAL rg_u8* wr = w + (rg_i64) r * in;                                 \
    rg_i64 srow = (rg_i64) r * ((in + blockSize - 1) / blockSize);                   \
    int vecEnd = ((in & 15) == 0 && (blockSize & 15) == 0) ? in : 0;
#define RG_MV_I8_COLS(kBegin, kEnd, X4, X1) RG_MV_COLS(wr, 16, vecEnd, kBegin, kEnd, RG_MV_I8_BODY, X4, RG_MV_I8_ELEM, X1)

RG_DEVICE void rg_mv_i8(const RG_GLOBAL float* x, int xRow0, int n, int in, int outDim, const RG_GLOBAL rg_u8* w,
        const RG_GLOBAL rg_u8* scales, int scaleFmt, int blockSize, int blk, const RG_GLOBAL rg_u8* bias, int biasFmt,
        int epilogue, RG_GLOBAL float* out, RG_LOCAL float* red) {
    RG_MV_PROLOGUE(blk)
    RG_MV_I8_SETUP
    RG_MV_I8_COLS(0, in, RG_MV_GX4, RG_MV_GX1)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

/* Decode matvec, blockwise symmetric int8. */
RG_KERNEL rg_matvec_i8(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT scales, int scaleFmt,
        int blockSize, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt, int epilogue,
        RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float red[MV_THREADS];
    rg_mv_i8(x, xRow0, n, in, outDim, w, scales, scaleFmt, blockSize, RG_BID, bias, biasFmt, epilogue, out, red);
}

/* Up to 3 int8 matvecs of one input (the parts share the format, so the scale format and block size). */
RG_KERNEL rg_matvec_group_i8(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int scaleFmt, int blockSize,
        RG_MV_QPART(0, rg_u8), RG_MV_QPART(1, rg_u8), RG_MV_QPART(2, rg_u8)) {
    RG_SHARED float red[MV_THREADS];
    RG_MV_GROUP_PART
    rg_mv_i8(x, xRow0, n, in, RG_PICK(outDim0, outDim1, outDim2), RG_PICK(w0, w1, w2), RG_PICK(aux0, aux1, aux2), scaleFmt,
            blockSize, blk, RG_MV_PICK_BIAS_OUT, red);
}

RG_KERNEL rg_matvec_gelu_i8(const RG_GLOBAL float* RG_RESTRICT gate, const RG_GLOBAL float* RG_RESTRICT up, int xRow0,
        int n, int in, int outDim, const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT scales,
        int scaleFmt, int blockSize, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt, int epilogue,
        RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_GELU_SHARED
    RG_MV_PROLOGUE(RG_BID)
    RG_MV_I8_SETUP
    RG_MV_GELU_TILES(RG_MV_I8_COLS)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

RG_KERNEL rg_matvec_group_norm_i8(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, RG_MV_NORM_PARAMS,
        int scaleFmt, int blockSize, RG_MV_QPART(0, rg_u8), RG_MV_QPART(1, rg_u8), RG_MV_QPART(2, rg_u8)) {
    RG_MV_GROUP_NORM_BODY(rg_u8, const RG_GLOBAL rg_u8* scales = RG_PICK(aux0, aux1, aux2);, RG_MV_I8_SETUP,
            RG_MV_I8_COLS)
}

/* ---- 4-bit code-book formats (bitsandbytes NF4/FP4 layout) */
/* The 8 4-bit weights of one word (even element in the high nibble of each byte) against columns k .. k+7. */
#define RG_Q4_WORD(word, s, k, X4)                                                                          \
    X4(cb[((word) >> 4) & 15u] * (s), cb[(word) & 15u] * (s), cb[((word) >> 12) & 15u] * (s),               \
            cb[((word) >> 8) & 15u] * (s), k)                                                               \
    X4(cb[((word) >> 20) & 15u] * (s), cb[((word) >> 16) & 15u] * (s), cb[((word) >> 28) & 15u] * (s),      \
            cb[((word) >> 24) & 15u] * (s), (k) + 4)

/*
 * Codes over the flattened tensor, one float32 absmax per blockSize elements (blocks may cross rows), 16-entry code
 * book cb (shared memory). 32 weights per 16-byte load when every row starts on a 32-element boundary and blockSize
 * is a multiple of 32, else element by element.
 */
#define RG_MV_Q4_BODY(q, c, X4)                              \
    {                                                         \
        float s = absmax[(first + ((c) << 5)) / blockSize];   \
        RG_Q4_WORD((q).x, s, (c) << 5, X4)                    \
        RG_Q4_WORD((q).y, s, ((c) << 5) + 8, X4)              \
        RG_Q4_WORD((q).z, s, ((c) << 5) + 16, X4)             \
        RG_Q4_WORD((q).w, s, ((c) << 5) + 24, X4)             \
    }
#define RG_MV_Q4_ELEM(k) rg_weight(RG_FMT_Q4, w, (const RG_GLOBAL rg_u8*) absmax, RG_FMT_F32, cb, in, blockSize, r, k)
#define RG_MV_Q4_SETUP                                                            \
    rg_i64 first = (rg_i64) r * in;                                               \
    int vecEnd = ((in & 31) == 0 && (blockSize & 31) == 0) ? in : 0;              \
    const RG_GLOBAL rg_u8* wr = w + (first >> 1);
#define RG_MV_Q4_COLS(kBegin, kEnd, X4, X1) RG_MV_COLS(wr, 32, vecEnd, kBegin, kEnd, RG_MV_Q4_BODY, X4, RG_MV_Q4_ELEM, X1)

/* The code book into shared memory (every thread calls it). */
RG_DEVICE void rg_mv_codebook(const RG_GLOBAL float* codebook, RG_LOCAL float* cb) {
    if (RG_TID < 16) {
        cb[RG_TID] = codebook[RG_TID];
    }
    RG_SYNC();
}

RG_DEVICE void rg_mv_q4(const RG_GLOBAL float* x, int xRow0, int n, int in, int outDim, const RG_GLOBAL rg_u8* w,
        const RG_GLOBAL float* absmax, RG_LOCAL float* cb, int blockSize, int blk, const RG_GLOBAL rg_u8* bias,
        int biasFmt, int epilogue, RG_GLOBAL float* out, RG_LOCAL float* red) {
    RG_MV_PROLOGUE(blk)
    RG_MV_Q4_SETUP
    RG_MV_Q4_COLS(0, in, RG_MV_GX4, RG_MV_GX1)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

/* Decode matvec, 4-bit code-book formats. */
RG_KERNEL rg_matvec_q4(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, int outDim,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL float* RG_RESTRICT absmax,
        const RG_GLOBAL float* RG_RESTRICT codebook, int blockSize, const RG_GLOBAL rg_u8* RG_RESTRICT bias,
        int biasFmt, int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float red[MV_THREADS];
    RG_SHARED float cb[16];
    rg_mv_codebook(codebook, cb);
    rg_mv_q4(x, xRow0, n, in, outDim, w, absmax, cb, blockSize, RG_BID, bias, biasFmt, epilogue, out, red);
}

/* Up to 3 4-bit matvecs of one input (the parts share the format, so the code book and block size). */
RG_KERNEL rg_matvec_group_q4(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in,
        const RG_GLOBAL float* RG_RESTRICT codebook, int blockSize, RG_MV_QPART(0, float), RG_MV_QPART(1, float),
        RG_MV_QPART(2, float)) {
    RG_SHARED float red[MV_THREADS];
    RG_SHARED float cb[16];
    rg_mv_codebook(codebook, cb);
    RG_MV_GROUP_PART
    rg_mv_q4(x, xRow0, n, in, RG_PICK(outDim0, outDim1, outDim2), RG_PICK(w0, w1, w2), RG_PICK(aux0, aux1, aux2), cb,
            blockSize, blk, RG_MV_PICK_BIAS_OUT, red);
}

RG_KERNEL rg_matvec_gelu_q4(const RG_GLOBAL float* RG_RESTRICT gate, const RG_GLOBAL float* RG_RESTRICT up, int xRow0,
        int n, int in, int outDim, const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL float* RG_RESTRICT absmax,
        const RG_GLOBAL float* RG_RESTRICT codebook, int blockSize, const RG_GLOBAL rg_u8* RG_RESTRICT bias,
        int biasFmt, int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_MV_GELU_SHARED
    RG_SHARED float cb[16];
    rg_mv_codebook(codebook, cb);
    RG_MV_PROLOGUE(RG_BID)
    RG_MV_Q4_SETUP
    RG_MV_GELU_TILES(RG_MV_Q4_COLS)
    rg_mv_store(acc, row, outDim, n, xRow0, bias, biasFmt, epilogue, out, red);
}

RG_KERNEL rg_matvec_group_norm_q4(const RG_GLOBAL float* RG_RESTRICT x, int xRow0, int n, int in, RG_MV_NORM_PARAMS,
        const RG_GLOBAL float* RG_RESTRICT codebook, int blockSize, RG_MV_QPART(0, float), RG_MV_QPART(1, float),
        RG_MV_QPART(2, float)) {
    RG_MV_GROUP_NORM_BODY(rg_u8,
            RG_SHARED float cb[16]; rg_mv_codebook(codebook, cb); const RG_GLOBAL float* absmax = RG_PICK(aux0, aux1, aux2);,
            RG_MV_Q4_SETUP, RG_MV_Q4_COLS)
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
        int biasFmt, int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
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
                if (epilogue & RG_EPI_BIAS) {
                    s += rg_dense(bias, biasFmt, gc);
                }
                rg_epi_store(out, (rg_i64) gr * outDim + gc, s, epilogue);
            }
        }
    }
}

/* ------------------------------------------------------------------ tensor cores */

/*
 * bf16 weights on tensor cores, exactly enough for rg's tolerance: the weights are bf16 already (exact), and each
 * float32 activation is split into two bf16 numbers, hi = bf16(x) and lo = bf16(x - hi), so that w * x is computed
 * as w * hi + w * lo by two mma instructions with float32 accumulation. hi + lo carries 16 significant bits of x
 * (relative error <= 2^-17), where plain bf16 activations would carry 8 (2^-9, a 1e-3 error in the logits).
 *
 * mma.sync.m16n8k16 (sm_80+), row.col: A = 16 weight rows x 16 k (row-major, as W is stored), B = 16 k x 8 tokens
 * (column-major, as x is stored), C = 16 x 8 float32, i.e. out transposed. Fragments (lane = 4 * group + tig):
 *   a0 = A[group][2 tig .. +1], a1 = A[group + 8][2 tig ..], a2 = A[group][2 tig + 8 ..], a3 = A[group + 8][2 tig + 8 ..]
 *   b0 = B[2 tig .. +1][group], b1 = B[2 tig + 8 .. +1][group]
 *   c0, c1 = C[group][2 tig .. +1], c2, c3 = C[group + 8][2 tig .. +1]
 * On OpenCL (the CPU check) each thread computes its accumulators' elements of C directly from the staged tiles
 * (the same positions the mma fragments hold), so the conformance kit on PoCL checks the staging, the k-step
 * tiling, the hi/lo split and the output mapping; the fragment loads and the instruction itself run on GPUs only.
 * (An emulation that exchanged fragments between lanes through local memory gave results that varied between runs
 * on PoCL: barriers inside a helper called in nested loops; it was replaced.)
 */
#define MMA_BM 128
#define MMA_BN 64
#define MMA_BK 32
#define MMA_PAD 40 /* halves per staged row: 80 bytes, so the 8 rows a fragment load touches fall in distinct banks */
#define MMA_THREADS 256

/* float32 -> the nearest bfloat16, as the high 16 bits of a float32 (round to nearest even; inf stays inf). */
RG_DEVICE rg_u32 rg_bf16_bits(float f) {
    rg_u32 u = RG_AS_UINT(f);
    return (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
}

#ifdef RG_CUDA
RG_DEVICE void rg_mma16816(float* c, rg_u32 a0, rg_u32 a1, rg_u32 a2, rg_u32 a3, rg_u32 b0, rg_u32 b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
#endif

/*
 * This thread's place in a tensor-core block of 8 warps (4 over weight rows x 2 over tokens): t, the warp's 32 x 32
 * tile at (wm, wn) inside the block's (m0, n0), and the fragment's row g and column pair q within an mma tile.
 */
#define MMA_PLACE \
    int t = RG_TID; \
    int g = (t & 31) >> 2; \
    int q = t & 3; \
    int wm = ((t >> 5) & 3) * 32; \
    int wn = (t >> 7) * 32; \
    int m0 = RG_BID * MMA_BM; \
    int n0 = RG_BID_Y * MMA_BN

/* A 32-bit word of two staged halves (the even one in the low bits), from a u16 array of shared memory. */
#define MMA_WORD(arr, row, col) (*(RG_LOCAL rg_u32*) &(arr)[(row) * MMA_PAD + (col)])

/*
 * What the tensor-core kernels (every weight format) share: a 32-deep k step of activations (and of f32 weights)
 * loaded into registers (piece e = t + 256 h of the tile: row = e / 8, 4 floats at (e % 8) * 4), values split into
 * bf16 parts and staged in shared memory, one k step of mma work on the staged tiles, and the epilogue.
 */
RG_DEVICE void rg_mma_load_f32(const RG_GLOBAL float* RG_RESTRICT src, int rows, int in, int r0, int k0, int t,
        rg_f32x4* reg, int pieces) {
    RG_UNROLL
    for (int h = 0; h < pieces; h++) {
        int e = t + h * MMA_THREADS;
        int row = r0 + e / 8;
        int kx = k0 + (e % 8) * 4;
        if (row < rows && kx < in) {
            reg[h] = *(const RG_GLOBAL rg_f32x4*) (src + (rg_i64) row * in + kx);
        } else {
            reg[h].x = 0.0f;
            reg[h].y = 0.0f;
            reg[h].z = 0.0f;
            reg[h].w = 0.0f;
        }
    }
}

/* A k step of 16-bit weights (bf16, f16): chunks t and t + 256 of the 128 x 32 tile (row = e / 4, 8 halves at (e % 4) * 8). */
RG_DEVICE void rg_mma_load_w16(const RG_GLOBAL rg_u16* RG_RESTRICT w, int in, int outDim, int m0, int k0, int t,
        rg_u32x4* wreg) {
    RG_UNROLL
    for (int h = 0; h < 2; h++) {
        int e = t + h * MMA_THREADS;
        int row = m0 + e / 4;
        int kk = k0 + (e % 4) * 8;
        if (row < outDim && kk < in) {
            wreg[h] = *(const RG_GLOBAL rg_u32x4*) (w + (rg_i64) row * in + kk);
        } else {
            wreg[h].x = 0u;
            wreg[h].y = 0u;
            wreg[h].z = 0u;
            wreg[h].w = 0u;
        }
    }
}

/* Zeroes a warp tile's 32 accumulators. */
RG_DEVICE void rg_mma_zero(float* acc) {
    RG_UNROLL
    for (int i = 0; i < 32; i++) {
        acc[i] = 0.0f;
    }
}

/* A pair of values' bf16 hi and lo halves as two words of staged pairs: v0 the even element (low half), v1 the odd one. */
RG_DEVICE void rg_mma_split_pair(float v0, float v1, RG_LOCAL rg_u32* hi, RG_LOCAL rg_u32* lo) {
    rg_u32 h0 = rg_bf16_bits(v0);
    rg_u32 h1 = rg_bf16_bits(v1);
    *hi = (h0 >> 16) | h1;
    *lo = (rg_bf16_bits(v0 - RG_AS_FLOAT(h0)) >> 16) | rg_bf16_bits(v1 - RG_AS_FLOAT(h1));
}

/* The activations of rg_mma_load_f32 staged as bf16 hi and lo halves (16 significant bits). */
RG_DEVICE void rg_mma_stage_x(const rg_f32x4* xreg, int t, RG_LOCAL rg_u16* xh, RG_LOCAL rg_u16* xl) {
    RG_UNROLL
    for (int h = 0; h < 2; h++) {
        int e = t + h * MMA_THREADS;
        int base = (e / 8) * MMA_PAD + (e % 8) * 4;
        RG_LOCAL rg_u32* hd = (RG_LOCAL rg_u32*) &xh[base];
        RG_LOCAL rg_u32* ld = (RG_LOCAL rg_u32*) &xl[base];
        rg_mma_split_pair(xreg[h].x, xreg[h].y, &hd[0], &ld[0]);
        rg_mma_split_pair(xreg[h].z, xreg[h].w, &hd[1], &ld[1]);
    }
}

#ifdef RG_CUDA
/* The weight fragments (mma operand A) of this warp's two 16-row tiles at k offset ks of the staged weights. */
RG_DEVICE void rg_mma_frag_a(RG_LOCAL rg_u16* ws, int wm, int g, int q, int ks, rg_u32 a[2][4]) {
    RG_UNROLL
    for (int mt = 0; mt < 2; mt++) {
        int r = wm + mt * 16 + g;
        a[mt][0] = MMA_WORD(ws, r, ks + 2 * q);
        a[mt][1] = MMA_WORD(ws, r + 8, ks + 2 * q);
        a[mt][2] = MMA_WORD(ws, r, ks + 2 * q + 8);
        a[mt][3] = MMA_WORD(ws, r + 8, ks + 2 * q + 8);
    }
}
#endif

/* acc[(mt * 4 + nt) * 4 + e] += this warp's 32 x 32 tile of one staged k step (weights ws, activations xh + xl). */
RG_DEVICE void rg_mma_step(RG_LOCAL rg_u16* ws, RG_LOCAL rg_u16* xh, RG_LOCAL rg_u16* xl, int wm, int wn, int g, int q,
        float* acc) {
#ifdef RG_CUDA
    RG_UNROLL
    for (int ks = 0; ks < MMA_BK; ks += 16) {
        rg_u32 a[2][4];
        rg_mma_frag_a(ws, wm, g, q, ks, a);
        RG_UNROLL
        for (int nt = 0; nt < 4; nt++) {
            int c = wn + nt * 8 + g;
            rg_u32 bh0 = MMA_WORD(xh, c, ks + 2 * q);
            rg_u32 bh1 = MMA_WORD(xh, c, ks + 2 * q + 8);
            rg_u32 bl0 = MMA_WORD(xl, c, ks + 2 * q);
            rg_u32 bl1 = MMA_WORD(xl, c, ks + 2 * q + 8);
            RG_UNROLL
            for (int mt = 0; mt < 2; mt++) {
                rg_mma16816(&acc[(mt * 4 + nt) * 4], a[mt][0], a[mt][1], a[mt][2], a[mt][3], bl0, bl1);
                rg_mma16816(&acc[(mt * 4 + nt) * 4], a[mt][0], a[mt][1], a[mt][2], a[mt][3], bh0, bh1);
            }
        }
    }
#else
    /* The CPU check computes what the mma fragments above compute, element by element from the staged tiles:
       accumulator e of tile (mt, nt) is C[g + 8 * (e / 2)][2 q + e % 2] of that tile, the lo products first. */
    for (int mt = 0; mt < 2; mt++) {
        for (int nt = 0; nt < 4; nt++) {
            for (int e = 0; e < 4; e++) {
                int r = wm + mt * 16 + g + (e >> 1) * 8;
                int c = wn + nt * 8 + 2 * q + (e & 1);
                float sl = 0.0f;
                float sh = 0.0f;
                for (int kk = 0; kk < MMA_BK; kk++) {
                    float wv = RG_AS_FLOAT((rg_u32) ws[r * MMA_PAD + kk] << 16);
                    sl = RG_FMA(wv, RG_AS_FLOAT((rg_u32) xl[c * MMA_PAD + kk] << 16), sl);
                    sh = RG_FMA(wv, RG_AS_FLOAT((rg_u32) xh[c * MMA_PAD + kk] << 16), sh);
                }
                acc[(mt * 4 + nt) * 4 + e] += sl + sh;
            }
        }
    }
#endif
}

/* Three bf16 parts of each of a pair of float32 values, as words of staged pairs: all 24 significant bits. */
RG_DEVICE void rg_mma_split3_pair(float v0, float v1, RG_LOCAL rg_u32* hi, RG_LOCAL rg_u32* mid, RG_LOCAL rg_u32* lo) {
    rg_u32 h0 = rg_bf16_bits(v0);
    rg_u32 h1 = rg_bf16_bits(v1);
    float r0 = v0 - RG_AS_FLOAT(h0);
    float r1 = v1 - RG_AS_FLOAT(h1);
    rg_u32 m0 = rg_bf16_bits(r0);
    rg_u32 m1 = rg_bf16_bits(r1);
    *hi = (h0 >> 16) | h1;
    *mid = (m0 >> 16) | m1;
    *lo = (rg_bf16_bits(r0 - RG_AS_FLOAT(m0)) >> 16) | rg_bf16_bits(r1 - RG_AS_FLOAT(m1));
}

/* acc += the staged weights ws times one staged activation part xs (rg_mma_step does two parts at once). */
RG_DEVICE void rg_mma_step1(RG_LOCAL rg_u16* ws, RG_LOCAL rg_u16* xs, int wm, int wn, int g, int q, float* acc) {
#ifdef RG_CUDA
    RG_UNROLL
    for (int ks = 0; ks < MMA_BK; ks += 16) {
        rg_u32 a[2][4];
        rg_mma_frag_a(ws, wm, g, q, ks, a);
        RG_UNROLL
        for (int nt = 0; nt < 4; nt++) {
            int c = wn + nt * 8 + g;
            rg_u32 b0 = MMA_WORD(xs, c, ks + 2 * q);
            rg_u32 b1 = MMA_WORD(xs, c, ks + 2 * q + 8);
            RG_UNROLL
            for (int mt = 0; mt < 2; mt++) {
                rg_mma16816(&acc[(mt * 4 + nt) * 4], a[mt][0], a[mt][1], a[mt][2], a[mt][3], b0, b1);
            }
        }
    }
#else
    for (int mt = 0; mt < 2; mt++) {
        for (int nt = 0; nt < 4; nt++) {
            for (int e = 0; e < 4; e++) {
                int r = wm + mt * 16 + g + (e >> 1) * 8;
                int c = wn + nt * 8 + 2 * q + (e & 1);
                float sum = 0.0f;
                for (int kk = 0; kk < MMA_BK; kk++) {
                    sum = RG_FMA(RG_AS_FLOAT((rg_u32) ws[r * MMA_PAD + kk] << 16),
                            RG_AS_FLOAT((rg_u32) xs[c * MMA_PAD + kk] << 16), sum);
                }
                acc[(mt * 4 + nt) * 4 + e] += sum;
            }
        }
    }
#endif
}

/* The activations of rg_mma_load_f32 staged in three bf16 parts (all 24 significant bits), for float32 weights. */
RG_DEVICE void rg_mma_stage_x3(const rg_f32x4* xreg, int t, RG_LOCAL rg_u16* xh, RG_LOCAL rg_u16* xm,
        RG_LOCAL rg_u16* xl) {
    RG_UNROLL
    for (int h = 0; h < 2; h++) {
        int e = t + h * MMA_THREADS;
        int base = (e / 8) * MMA_PAD + (e % 8) * 4;
        RG_LOCAL rg_u32* hd = (RG_LOCAL rg_u32*) &xh[base];
        RG_LOCAL rg_u32* md = (RG_LOCAL rg_u32*) &xm[base];
        RG_LOCAL rg_u32* ld = (RG_LOCAL rg_u32*) &xl[base];
        rg_mma_split3_pair(xreg[h].x, xreg[h].y, &hd[0], &md[0], &ld[0]);
        rg_mma_split3_pair(xreg[h].z, xreg[h].w, &hd[1], &md[1], &ld[1]);
    }
}

/* Writes accumulator e of tile (mt, nt): output row m0 + wm + mt * 16 + g + 8 (e / 2), token n0 + wn + nt * 8 + 2 q + e % 2. */
RG_DEVICE void rg_mma_store(const float* acc, int m0, int n0, int wm, int wn, int g, int q, int n, int outDim,
        const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt, int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_UNROLL
    for (int mt = 0; mt < 2; mt++) {
        RG_UNROLL
        for (int nt = 0; nt < 4; nt++) {
            RG_UNROLL
            for (int e = 0; e < 4; e++) {
                int row = m0 + wm + mt * 16 + g + (e >> 1) * 8;
                int tok = n0 + wn + nt * 8 + 2 * q + (e & 1);
                if (row < outDim && tok < n) {
                    float v = acc[(mt * 4 + nt) * 4 + e];
                    if (epilogue & RG_EPI_BIAS) {
                        v += rg_dense(bias, biasFmt, row);
                    }
                    rg_epi_store(out, (rg_i64) tok * outDim + row, v, epilogue);
                }
            }
        }
    }
}

/*
 * out[n, outDim] = x[n, in] @ w^T (+ bias) for bf16 w on tensor cores. Grid (ceil(outDim / 128), ceil(n / 64)),
 * 256 threads = 8 warps as 4 (weight rows) x 2 (tokens), each warp a 32 x 32 tile of 2 x 4 mma tiles. Each 32-deep
 * k step stages 128 weight rows and 64 activation rows (split into hi/lo bf16) in shared memory; the next step's
 * global loads are issued into registers before this step's mma work, so their latency hides behind it.
 * Requires in % 8 == 0 (16-byte weight loads); any n, outDim.
 */
RG_KERNEL rg_matmul_mma_bf16(const RG_GLOBAL float* RG_RESTRICT x, int n, int in, int outDim,
        const RG_GLOBAL rg_u16* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt, int epilogue,
        RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED rg_u16 ws[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 xh[MMA_BN * MMA_PAD];
    RG_SHARED rg_u16 xl[MMA_BN * MMA_PAD];
    MMA_PLACE;
    float acc[32];
    rg_mma_zero(acc);
    rg_u32x4 wreg[2];
    rg_f32x4 xreg[2];
    for (int k0 = 0; k0 < in; k0 += MMA_BK) {
        rg_mma_load_w16(w, in, outDim, m0, k0, t, wreg);
        rg_mma_load_f32(x, n, in, n0, k0, t, xreg, 2);
        RG_SYNC();
        RG_UNROLL
        for (int h = 0; h < 2; h++) {
            int e = t + h * MMA_THREADS;
            RG_LOCAL rg_u32* wd = (RG_LOCAL rg_u32*) &ws[(e / 4) * MMA_PAD + (e % 4) * 8];
            wd[0] = wreg[h].x;
            wd[1] = wreg[h].y;
            wd[2] = wreg[h].z;
            wd[3] = wreg[h].w;
        }
        rg_mma_stage_x(xreg, t, xh, xl);
        RG_SYNC();
        rg_mma_step(ws, xh, xl, wm, wn, g, q, acc);
    }
    rg_mma_store(acc, m0, n0, wm, wn, g, q, n, outDim, bias, biasFmt, epilogue, out);
}

/*
 * out[n, outDim] = x[n, in] @ w^T (+ bias) for int8 weights with one scale per 32 elements of a row, on tensor cores:
 * the layout of rg_matmul_mma_bf16, with each k step exactly one scale block. An int8 code is a bf16 value exactly
 * (8 significant bits), so the codes are staged as bf16 and the activations split into hi and lo as there; each k
 * step's products go into their own accumulators, which are then added to the sums times the row's scale
 * (acc += scale * step, one rounding more than dequantising first: within the kernel tolerance). Requires
 * blockSize == 32 and in % 32 == 0 (16-byte loads of codes); any n, outDim. scaleFmt: RG_FMT_F16 or RG_FMT_F32.
 */
RG_KERNEL rg_matmul_mma_i8(const RG_GLOBAL float* RG_RESTRICT x, int n, int in, int outDim,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT scales, int scaleFmt,
        const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt, int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED rg_u16 ws[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 xh[MMA_BN * MMA_PAD];
    RG_SHARED rg_u16 xl[MMA_BN * MMA_PAD];
    RG_SHARED float wscale[MMA_BM];
    MMA_PLACE;
    int blocks = in / MMA_BK;
    float acc[32];
    float step[32];
    rg_mma_zero(acc);
    /* this thread's share of a k step's codes: 16 of row t / 2, from column (t % 2) * 16; and row t's scale */
    rg_u32x4 wreg;
    float sreg;
    rg_f32x4 xreg[2];
    for (int k0 = 0; k0 < in; k0 += MMA_BK) {
        int row = m0 + t / 2;
        if (row < outDim) {
            wreg = *(const RG_GLOBAL rg_u32x4*) (w + (rg_i64) row * in + k0 + (t % 2) * 16);
        } else {
            wreg.x = 0u;
            wreg.y = 0u;
            wreg.z = 0u;
            wreg.w = 0u;
        }
        sreg = t < MMA_BM && m0 + t < outDim ? rg_dense(scales, scaleFmt, (rg_i64) (m0 + t) * blocks + k0 / MMA_BK) : 0.0f;
        rg_mma_load_f32(x, n, in, n0, k0, t, xreg, 2);
        RG_SYNC();
        rg_u32 words[4];
        words[0] = wreg.x;
        words[1] = wreg.y;
        words[2] = wreg.z;
        words[3] = wreg.w;
        RG_LOCAL rg_u32* wd = (RG_LOCAL rg_u32*) &ws[(t / 2) * MMA_PAD + (t % 2) * 16];
        RG_UNROLL
        for (int i = 0; i < 4; i++) {
            /* four codes, little-endian: each code's bf16 bits, two per 32-bit word (the even one low) */
            rg_u32 v = words[i];
            rg_u32 b0 = RG_AS_UINT((float) (int) (rg_i8) (v & 0xffu)) >> 16;
            rg_u32 b1 = RG_AS_UINT((float) (int) (rg_i8) ((v >> 8) & 0xffu)) & 0xffff0000u;
            rg_u32 b2 = RG_AS_UINT((float) (int) (rg_i8) ((v >> 16) & 0xffu)) >> 16;
            rg_u32 b3 = RG_AS_UINT((float) (int) (rg_i8) (v >> 24)) & 0xffff0000u;
            wd[2 * i] = b0 | b1;
            wd[2 * i + 1] = b2 | b3;
        }
        if (t < MMA_BM) {
            wscale[t] = sreg;
        }
        rg_mma_stage_x(xreg, t, xh, xl);
        RG_SYNC();
        rg_mma_zero(step);
        rg_mma_step(ws, xh, xl, wm, wn, g, q, step);
        RG_UNROLL
        for (int i = 0; i < 32; i++) {
            /* accumulator i = (mt * 4 + nt) * 4 + e belongs to weight row wm + mt * 16 + g + 8 (e / 2) */
            int r = wm + (i >> 4) * 16 + g + ((i & 3) >> 1) * 8;
            acc[i] = RG_FMA(wscale[r], step[i], acc[i]);
        }
    }
    rg_mma_store(acc, m0, n0, wm, wn, g, q, n, outDim, bias, biasFmt, epilogue, out);
}


/*
 * out[n, outDim] = x[n, in] @ w^T (+ bias) for f16 weights on tensor cores: the layout of rg_matmul_mma_bf16, each
 * weight split into bf16 hi and lo halves (exact: an f16 value has 11 significant bits, the two halves 16, and bf16's
 * exponent range holds f16's), both staged and run through the mma step. Requires in % 8 == 0; any n, outDim.
 */
RG_KERNEL rg_matmul_mma_f16(const RG_GLOBAL float* RG_RESTRICT x, int n, int in, int outDim,
        const RG_GLOBAL rg_u16* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt, int epilogue,
        RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED rg_u16 wh[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 wl[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 xh[MMA_BN * MMA_PAD];
    RG_SHARED rg_u16 xl[MMA_BN * MMA_PAD];
    MMA_PLACE;
    float acc[32];
    rg_mma_zero(acc);
    rg_u32x4 wreg[2];
    rg_f32x4 xreg[2];
    for (int k0 = 0; k0 < in; k0 += MMA_BK) {
        rg_mma_load_w16(w, in, outDim, m0, k0, t, wreg);
        rg_mma_load_f32(x, n, in, n0, k0, t, xreg, 2);
        RG_SYNC();
        RG_UNROLL
        for (int h = 0; h < 2; h++) {
            int e = t + h * MMA_THREADS;
            int at = (e / 4) * MMA_PAD + (e % 4) * 8;
            RG_LOCAL rg_u32* hd = (RG_LOCAL rg_u32*) &wh[at];
            RG_LOCAL rg_u32* ld = (RG_LOCAL rg_u32*) &wl[at];
            rg_u32 words[4];
            words[0] = wreg[h].x;
            words[1] = wreg[h].y;
            words[2] = wreg[h].z;
            words[3] = wreg[h].w;
            RG_UNROLL
            for (int i = 0; i < 4; i++) {
                rg_mma_split_pair(rg_f16(words[i] & 0xffffu), rg_f16(words[i] >> 16), &hd[i], &ld[i]);
            }
        }
        rg_mma_stage_x(xreg, t, xh, xl);
        RG_SYNC();
        rg_mma_step(wh, xh, xl, wm, wn, g, q, acc);
        rg_mma_step(wl, xh, xl, wm, wn, g, q, acc);
    }
    rg_mma_store(acc, m0, n0, wm, wn, g, q, n, outDim, bias, biasFmt, epilogue, out);
}

/*
 * out[n, outDim] = x[n, in] @ w^T (+ bias) for f32 weights on tensor cores ("bf16x6"): the layout of
 * rg_matmul_mma_bf16, weights and activations each split into three bf16 parts (all 24 significant bits), and the six
 * products down to 2^-16 of the leading one (hh, hm, mh, mm, hl, lh; plus ll, which comes with lh) through the mma.
 * With two parts of each, as the other formats use, the float32 fixture models missed their tolerances (logits 1.2e-4
 * against 1e-4; with three weight parts, layer outputs 2.4e-4 against 2e-4). Requires in % 4 == 0; any n, outDim.
 */
RG_KERNEL rg_matmul_mma_f32(const RG_GLOBAL float* RG_RESTRICT x, int n, int in, int outDim,
        const RG_GLOBAL float* RG_RESTRICT w, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt, int epilogue,
        RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED rg_u16 wh[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 wm3[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 wl[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 xh[MMA_BN * MMA_PAD];
    RG_SHARED rg_u16 xm3[MMA_BN * MMA_PAD];
    RG_SHARED rg_u16 xl[MMA_BN * MMA_PAD];
    MMA_PLACE;
    float acc[32];
    rg_mma_zero(acc);
    /* this thread's share of a k step's weights: pieces t + 256 h, h < 4 (row = e / 8, 4 floats at (e % 8) * 4) */
    rg_f32x4 wreg[4];
    rg_f32x4 xreg[2];
    for (int k0 = 0; k0 < in; k0 += MMA_BK) {
        rg_mma_load_f32(w, outDim, in, m0, k0, t, wreg, 4);
        rg_mma_load_f32(x, n, in, n0, k0, t, xreg, 2);
        RG_SYNC();
        RG_UNROLL
        for (int h = 0; h < 4; h++) {
            int e = t + h * MMA_THREADS;
            int at = (e / 8) * MMA_PAD + (e % 8) * 4;
            RG_LOCAL rg_u32* hd = (RG_LOCAL rg_u32*) &wh[at];
            RG_LOCAL rg_u32* md = (RG_LOCAL rg_u32*) &wm3[at];
            RG_LOCAL rg_u32* ld = (RG_LOCAL rg_u32*) &wl[at];
            rg_mma_split3_pair(wreg[h].x, wreg[h].y, &hd[0], &md[0], &ld[0]);
            rg_mma_split3_pair(wreg[h].z, wreg[h].w, &hd[1], &md[1], &ld[1]);
        }
        rg_mma_stage_x3(xreg, t, xh, xm3, xl);
        RG_SYNC();
        rg_mma_step1(wh, xl, wm, wn, g, q, acc);          /* smallest terms first */
        rg_mma_step(wl, xh, xl, wm, wn, g, q, acc);       /* ll, lh */
        rg_mma_step(wm3, xh, xm3, wm, wn, g, q, acc);     /* mm, mh */
        rg_mma_step(wh, xh, xm3, wm, wn, g, q, acc);      /* hm, hh */
    }
    rg_mma_store(acc, m0, n0, wm, wn, g, q, n, outDim, bias, biasFmt, epilogue, out);
}

/*
 * out[n, outDim] = x[n, in] @ w^T (+ bias) for 4-bit code-book weights (NF4, FP4; bitsandbytes' layout, one f32 absmax
 * per block of blockSize elements) on tensor cores: the layout of rg_matmul_mma_bf16. Each weight is dequantised as
 * the reference does (code-book value x absmax, one float32 multiply), then split like the activations into bf16 hi
 * and lo halves (a code-book value is not a bf16 value), and both halves go through the mma: four products per pair
 * of halves, each weight and activation keeping 16 significant bits. Requires blockSize % 32 == 0 and
 * in % blockSize == 0 (a k step inside one block of one row); any n, outDim.
 */
RG_KERNEL rg_matmul_mma_q4(const RG_GLOBAL float* RG_RESTRICT x, int n, int in, int outDim,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, const RG_GLOBAL float* RG_RESTRICT absmax,
        const RG_GLOBAL float* RG_RESTRICT codebook, int blockSize, const RG_GLOBAL rg_u8* RG_RESTRICT bias, int biasFmt,
        int epilogue, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED rg_u16 wh[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 wl[MMA_BM * MMA_PAD];
    RG_SHARED rg_u16 xh[MMA_BN * MMA_PAD];
    RG_SHARED rg_u16 xl[MMA_BN * MMA_PAD];
    RG_SHARED float cb[16];
    MMA_PLACE;
    if (t < 16) {
        cb[t] = codebook[t];
    }
    float acc[32];
    rg_mma_zero(acc);
    /* this thread's share of a k step's codes: 16 of row t / 2 from column (t % 2) * 16 (8 bytes), and their absmax */
    rg_u32 code0;
    rg_u32 code1;
    float scale;
    rg_f32x4 xreg[2];
    for (int k0 = 0; k0 < in; k0 += MMA_BK) {
        int row = m0 + t / 2;
        if (row < outDim) {
            rg_i64 first = (rg_i64) row * in + k0 + (t % 2) * 16; /* even: whole bytes */
            const RG_GLOBAL rg_u32* p = (const RG_GLOBAL rg_u32*) (w + first / 2);
            code0 = p[0];
            code1 = p[1];
            scale = absmax[first / blockSize];
        } else {
            code0 = 0u;
            code1 = 0u;
            scale = 0.0f;
        }
        rg_mma_load_f32(x, n, in, n0, k0, t, xreg, 2);
        RG_SYNC();
        RG_LOCAL rg_u32* hd = (RG_LOCAL rg_u32*) &wh[(t / 2) * MMA_PAD + (t % 2) * 16];
        RG_LOCAL rg_u32* ld = (RG_LOCAL rg_u32*) &wl[(t / 2) * MMA_PAD + (t % 2) * 16];
        RG_UNROLL
        for (int i = 0; i < 8; i++) {
            /* byte i: element 2i in the high nibble, 2i + 1 in the low one; the even element goes in the low half */
            rg_u32 b = ((i < 4 ? code0 : code1) >> (8 * (i & 3))) & 0xffu;
            rg_mma_split_pair(cb[b >> 4] * scale, cb[b & 15u] * scale, &hd[i], &ld[i]);
        }
        rg_mma_stage_x(xreg, t, xh, xl);
        RG_SYNC();
        rg_mma_step(wh, xh, xl, wm, wn, g, q, acc);
        rg_mma_step(wl, xh, xl, wm, wn, g, q, acc);
    }
    rg_mma_store(acc, m0, n0, wm, wn, g, q, n, outDim, bias, biasFmt, epilogue, out);
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
/* x[r] += delta[r], then out[r] = rmsNorm(x[r]): the residual add and the next norm in one pass. One block per row. */
RG_KERNEL rg_add_rmsnorm(RG_GLOBAL float* RG_RESTRICT x, const RG_GLOBAL float* RG_RESTRICT delta, int cols,
        const RG_GLOBAL rg_u8* RG_RESTRICT w, int wFmt, float eps, RG_GLOBAL float* RG_RESTRICT out) {
    RG_SHARED float red[256];
    RG_GLOBAL float* xr = x + (rg_i64) RG_BID * cols;
    const RG_GLOBAL float* dr = delta + (rg_i64) RG_BID * cols;
    RG_GLOBAL float* orow = out + (rg_i64) RG_BID * cols;
    float ss = 0.0f;
    for (int c = RG_TID; c < cols; c += RG_BDIM) {
        float v = xr[c] + dr[c];
        xr[c] = v;
        ss = RG_FMA(v, v, ss);
    }
    ss = rg_block_sum(ss, red);
    float inv = 1.0f / RG_SQRT(ss / (float) cols + eps);
    for (int c = RG_TID; c < cols; c += RG_BDIM) {
        orow[c] = xr[c] * inv * (1.0f + rg_dense(w, wFmt, c)); /* this thread wrote xr[c] itself */
    }
}

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

/* rg_gelu (gelu_pytorch_tanh) is defined with the matvecs, which use it too. */

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
/* Floats of shared memory that stage activation rows for the gate kernel (rows x block width; 32 KB). */
#define RG_LRU_STAGE 8192
/* Most activation rows one gate block handles (the host passes rows <= min(RG_LRU_MAXROWS, RG_LRU_STAGE / bw)). */
#define RG_LRU_MAXROWS 16

/*
 * The RG-LRU's two block-diagonal gates for every row of the call, spread over the whole GPU (the first version
 * computed them inside the loop over time on one block per gate block: 10 SMs for the 2B model, 82 us per layer).
 * gate_g[row][h*bw + j] = sum_i x[row][h*bw + i] * W_g[h][i][j] (W is [in, out], as HF stores it), split over
 * `parts` slices of i so that a decode step (one row) still fills the GPU; each slice writes its partial sums to
 * partial[((part * rows + row) * 2 + g) * width + h*bw + j], which rg_lru_scan adds up.
 * Grid (blocks * parts, ceil(rows / rowsPer)), blockDim = bw rounded up to 32: thread j owns output channel j of
 * gate block h; the block stages rowsPer rows of its x slice in shared memory and reads each weight once for all
 * of them (coalesced across j).
 */
RG_KERNEL rg_lru_gates(const RG_GLOBAL float* RG_RESTRICT x, int rows, int width, int bw, int parts, int rowsPer,
        const RG_GLOBAL rg_u8* RG_RESTRICT wIn, int wInFmt, const RG_GLOBAL rg_u8* RG_RESTRICT wRec, int wRecFmt,
        RG_GLOBAL float* RG_RESTRICT partial) {
    RG_SHARED float xs[RG_LRU_STAGE];
    int h = RG_BID / parts;
    int part = RG_BID % parts;
    int row0 = RG_BID_Y * rowsPer;
    int nr = rows - row0 < rowsPer ? rows - row0 : rowsPer;
    int per = (bw + parts - 1) / parts;
    int i0 = part * per;
    int i1 = i0 + per < bw ? i0 + per : bw;
    int span = i1 > i0 ? i1 - i0 : 0;
    int j = RG_TID;
    int live = j < bw;
    int jj = live ? j : 0;
    for (int e = RG_TID; e < nr * span; e += RG_BDIM) {
        int rr = e / span;
        int ii = e % span;
        xs[rr * span + ii] = x[(rg_i64) (row0 + rr) * width + (rg_i64) h * bw + i0 + ii];
    }
    RG_SYNC();
    float gx[RG_LRU_MAXROWS];
    float ga[RG_LRU_MAXROWS];
    RG_UNROLL
    for (int rr = 0; rr < RG_LRU_MAXROWS; rr++) {
        gx[rr] = 0.0f;
        ga[rr] = 0.0f;
    }
    rg_i64 wBase = (rg_i64) h * bw * bw + jj;
    for (int ii = 0; ii < span; ii++) {
        rg_i64 at = wBase + (rg_i64) (i0 + ii) * bw;
        float wx = rg_dense(wIn, wInFmt, at);
        float wa = rg_dense(wRec, wRecFmt, at);
        RG_UNROLL
        for (int rr = 0; rr < RG_LRU_MAXROWS; rr++) {
            if (rr < nr) {
                float xi = xs[rr * span + ii];
                gx[rr] = RG_FMA(xi, wx, gx[rr]);
                ga[rr] = RG_FMA(xi, wa, ga[rr]);
            }
        }
    }
    if (live) {
        RG_UNROLL
        for (int rr = 0; rr < RG_LRU_MAXROWS; rr++) {
            if (rr < nr) {
                rg_i64 o = (((rg_i64) part * rows + row0 + rr) * 2) * width + (rg_i64) h * bw + j;
                partial[o] = gx[rr];
                partial[o + width] = ga[rr];
            }
        }
    }
}

/*
 * The RG-LRU scan over the call's tokens, one thread per (sequence, channel): adds the gate partial sums of
 * rg_lru_gates and the biases, then h_t = a_t * h_{t-1} + sqrt(1 - a_t^2) * (x_t * gate_x) with
 * a_t = exp(-8 * gate_a * c) (computed in log space) where c = softplus(lambda) comes computed at load
 * (softplusLambda), reset (h = x_t * gate_x) at position 0.
 * The state h stays in a register across the call; it is read and written once.
 */
RG_KERNEL rg_lru_scan(const RG_GLOBAL float* RG_RESTRICT x, const RG_GLOBAL int* RG_RESTRICT starts, int batch, int len,
        int width, int parts, const RG_GLOBAL float* RG_RESTRICT partial, const RG_GLOBAL rg_u8* RG_RESTRICT bIn,
        int bInFmt, const RG_GLOBAL rg_u8* RG_RESTRICT bRec, int bRecFmt, const RG_GLOBAL rg_u8* RG_RESTRICT softplusLambda,
        int softplusLambdaFmt, RG_GLOBAL float* RG_RESTRICT state, RG_GLOBAL float* RG_RESTRICT out) {
    int i = RG_BID * RG_BDIM + RG_TID;
    if (i >= batch * width) {
        return;
    }
    int s = i / width;
    int ch = i % width;
    int rows = batch * len;
    float c = rg_dense(softplusLambda, softplusLambdaFmt, ch);
    float bx = rg_dense(bIn, bInFmt, ch);
    float ba = rg_dense(bRec, bRecFmt, ch);
    float h = state[(rg_i64) s * width + ch];
    int start = starts[s];
    for (int t = 0; t < len; t++) {
        rg_i64 row = (rg_i64) s * len + t;
        float gx = bx;
        float ga = ba;
        for (int p = 0; p < parts; p++) {
            rg_i64 o = (((rg_i64) p * rows + row) * 2) * width + ch;
            gx += partial[o];
            ga += partial[o + width];
        }
        float gateX = 1.0f / (1.0f + RG_EXP(-gx));
        float gateA = 1.0f / (1.0f + RG_EXP(-ga));
        float logA = -8.0f * gateA * c;
        float a = RG_EXP(logA);
        float a2 = RG_EXP(2.0f * logA);
        int reset = start + t == 0;
        float mult = reset ? 1.0f : RG_SQRT(1.0f - a2);
        float xn = x[row * width + ch] * gateX * mult;
        h = reset ? xn : a * h + xn;
        out[row * width + ch] = h;
    }
    state[(rg_i64) s * width + ch] = h;
}

/*
 * The device's read bandwidth probe for `rg bench`: every thread sums its grid-stride share of 16-byte words of
 * buf (MV_UNROLL loads in flight, as the matvecs) and one value per block is written so nothing is optimised away.
 */
RG_KERNEL rg_read_probe(const RG_GLOBAL rg_u32x4* RG_RESTRICT buf, rg_i64 words, RG_GLOBAL rg_u32* RG_RESTRICT sink) {
    RG_SHARED float red[256];
    rg_u32 acc = 0u;
    rg_i64 stride = (rg_i64) RG_GDIM * RG_BDIM;
    rg_i64 i = (rg_i64) RG_BID * RG_BDIM + RG_TID;
    for (; i + 3 * stride < words; i += 4 * stride) {
        rg_u32x4 a = buf[i];
        rg_u32x4 b = buf[i + stride];
        rg_u32x4 c = buf[i + 2 * stride];
        rg_u32x4 d = buf[i + 3 * stride];
        acc += (a.x ^ b.y) + (c.z ^ d.w) + (a.w ^ b.x) + (c.y ^ d.z) + (a.y ^ a.z) + (b.z ^ b.w) + (c.x ^ c.w) + (d.x ^ d.y);
    }
    for (; i < words; i += stride) {
        rg_u32x4 a = buf[i];
        acc += a.x ^ a.y ^ a.z ^ a.w;
    }
    float v = rg_block_sum((float) (acc & 0xffffu), red);
    if (RG_TID == 0) {
        sink[RG_BID] = (rg_u32) v;
    }
}

/* ------------------------------------------------------------------ attention block */

/* Rotates one (j, j + halfRot) pair of the head at x[base ..] by angle pos * invFreq[j] (rg_rope and rg_rope_qk). */
RG_DEVICE void rg_rope_pair(RG_GLOBAL float* RG_RESTRICT x, rg_i64 base, int j, int halfRot, int pos,
        const RG_GLOBAL float* RG_RESTRICT invFreq) {
    float angle = (float) pos * invFreq[j];
    float c = RG_COS(angle);
    float sn = RG_SIN(angle);
    float first = x[base + j];
    float second = x[base + j + halfRot];
    x[base + j] = first * c - second * sn;
    x[base + j + halfRot] = second * c + first * sn;
}

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
    rg_rope_pair(x, (rg_i64) row * heads * headDim + (rg_i64) hd * headDim, j, halfRot, starts[row / len] + row % len,
            invFreq);
}

/*
 * RoPE of q (heads) and k (kvHeads) in one launch (Kernels.ropeQk): one thread per (row, head of q or of k, pair),
 * the q heads of a row first, then its k heads; each thread does exactly what rg_rope does for its pair.
 */
RG_KERNEL rg_rope_qk(RG_GLOBAL float* RG_RESTRICT q, RG_GLOBAL float* RG_RESTRICT k, const RG_GLOBAL int* RG_RESTRICT starts,
        int rows, int len, int heads, int kvHeads, int headDim, int halfRot, const RG_GLOBAL float* RG_RESTRICT invFreq) {
    int i = RG_BID * RG_BDIM + RG_TID;
    int per = (heads + kvHeads) * halfRot;
    if (i >= rows * per) {
        return;
    }
    int row = i / per;
    int hd = (i % per) / halfRot;
    int j = i % halfRot;
    int pos = starts[row / len] + row % len;
    if (hd < heads) {
        rg_rope_pair(q, (rg_i64) row * heads * headDim + (rg_i64) hd * headDim, j, halfRot, pos, invFreq);
    } else {
        rg_rope_pair(k, (rg_i64) row * kvHeads * headDim + (rg_i64) (hd - heads) * headDim, j, halfRot, pos, invFreq);
    }
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

/* Keys one block of the split decode attention scores at most. */
#define ATT_SPLIT_KEYS 256

/*
 * Decode attention split over the keys ("flash decoding"): grid (rows, heads * splits), ATT_THREADS threads.
 * The one-block-per-head kernel above puts a decode step's attention on `heads` SMs (10 for 2B), each reading a
 * whole window of keys; here each block takes one slice of at most ATT_SPLIT_KEYS keys of the window. Scores: one
 * warp per key, lanes over the head dims (coalesced reads of the key row), kept in shared memory; then each thread
 * owns up to ATT_MAXD output dims and sums its slice's values. Each block writes its slice's maximum score, sum of
 * exponentials and unnormalised output to part[((row * heads + head) * splits + split) * (headDim + 2)];
 * rg_attention_combine merges the slices. The caches are only read here.
 */
RG_KERNEL rg_attention_split(const RG_GLOBAL float* RG_RESTRICT q, const RG_GLOBAL float* RG_RESTRICT k,
        const RG_GLOBAL float* RG_RESTRICT v, const RG_GLOBAL int* RG_RESTRICT starts, int len, int heads, int kvHeads,
        int headDim, int window, float scale, int splits, const RG_GLOBAL float* RG_RESTRICT kc,
        const RG_GLOBAL float* RG_RESTRICT vc, RG_GLOBAL float* RG_RESTRICT part) {
    RG_SHARED float qs[ATT_MAXHD];
    RG_SHARED float sc[ATT_SPLIT_KEYS];
    RG_SHARED float red[ATT_THREADS];
    int t = RG_TID;
    int lane = t & 31;
    int warp = t >> 5;
    int warps = RG_BDIM >> 5;
    int row = RG_BID;
    int head = RG_BID_Y / splits;
    int split = RG_BID_Y % splits;
    int s = row / len;
    int start = starts[s];
    int pos = start + row % len;
    int first = pos - window > 0 ? pos - window : 0;
    int count = pos - first + 1;
    int per = (count + splits - 1) / splits;
    int p0 = first + split * per;
    int n = pos - p0 + 1 < per ? pos - p0 + 1 : per;
    n = n > 0 ? n : 0;
    int kvHead = head / (heads / kvHeads);
    int kvCols = kvHeads * headDim;
    rg_i64 qBase = ((rg_i64) row * heads + head) * headDim;
    for (int d = t; d < headDim; d += RG_BDIM) {
        qs[d] = q[qBase + d];
    }
    RG_SYNC();
    /* every warp runs the same number of rounds: the OpenCL reduction inside has barriers */
    for (int j0 = 0; j0 < n; j0 += warps) {
        int j = j0 + warp;
        float dot = 0.0f;
        if (j < n) {
            const RG_GLOBAL float* kr = rg_kv_row(k, kc, p0 + j, start, s, len, kvCols, kvHead, headDim, window);
            for (int d = lane; d < headDim; d += 32) {
                dot = RG_FMA(qs[d], kr[d], dot);
            }
        }
        dot = rg_sum32(dot, red);
        if (j < n && lane == 0) {
            sc[j] = dot * scale;
        }
    }
    RG_SYNC();
    float mx = -RG_INF;
    for (int j = t; j < n; j += RG_BDIM) {
        mx = RG_FMAX(mx, sc[j]);
    }
    mx = rg_block_max(mx, red);
    float sum = 0.0f;
    for (int j = t; j < n; j += RG_BDIM) {
        float e = RG_EXP(sc[j] - mx);
        sc[j] = e;
        sum += e;
    }
    sum = rg_block_sum(sum, red); /* its barriers also publish the exponentials in sc */
    rg_i64 o = (((rg_i64) row * heads + head) * splits + split) * (headDim + 2);
    for (int i = 0; i < ATT_MAXD; i++) {
        int d = t + i * ATT_THREADS;
        if (d < headDim) {
            float a = 0.0f;
            for (int j = 0; j < n; j++) {
                const RG_GLOBAL float* vr = rg_kv_row(v, vc, p0 + j, start, s, len, kvCols, kvHead, headDim, window);
                a = RG_FMA(sc[j], vr[d], a);
            }
            part[o + 2 + d] = a;
        }
    }
    if (t == 0) {
        part[o] = n > 0 ? mx : -RG_INF;
        part[o + 1] = n > 0 ? sum : 0.0f;
    }
}

/*
 * Merges the slices of rg_attention_split: out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s. Grid (rows,
 * heads). It also does the KV ring write of the decode step (what rg_kv_update does after the per-head kernel), one
 * launch fewer: row r (sequence r, one token at position starts[r]) goes to slot starts[r] % window of the caches.
 * That write must wait until every slice has read the caches (the slot still holds position p - W, which the query
 * at p attends), and this kernel is the first point after them. The (row, head) blocks of a row share its kvCols
 * elements.
 */
RG_KERNEL rg_attention_combine(const RG_GLOBAL float* RG_RESTRICT part, int heads, int headDim, int splits,
        RG_GLOBAL float* RG_RESTRICT out, const RG_GLOBAL float* RG_RESTRICT k, const RG_GLOBAL float* RG_RESTRICT v,
        const RG_GLOBAL int* RG_RESTRICT starts, int window, int kvCols, RG_GLOBAL float* RG_RESTRICT kc,
        RG_GLOBAL float* RG_RESTRICT vc) {
    int t = RG_TID;
    int row = RG_BID;
    int head = RG_BID_Y;
    rg_i64 base = ((rg_i64) row * heads + head) * splits * (headDim + 2);
    float m = -RG_INF;
    for (int sp = 0; sp < splits; sp++) {
        m = RG_FMAX(m, part[base + (rg_i64) sp * (headDim + 2)]);
    }
    float l = 0.0f;
    for (int sp = 0; sp < splits; sp++) {
        rg_i64 o = base + (rg_i64) sp * (headDim + 2);
        float ms = part[o];
        l += ms == -RG_INF ? 0.0f : RG_EXP(ms - m) * part[o + 1];
    }
    for (int d = t; d < headDim; d += RG_BDIM) {
        float a = 0.0f;
        for (int sp = 0; sp < splits; sp++) {
            rg_i64 o = base + (rg_i64) sp * (headDim + 2);
            float ms = part[o];
            a += ms == -RG_INF ? 0.0f : RG_EXP(ms - m) * part[o + 2 + d];
        }
        out[((rg_i64) row * heads + head) * headDim + d] = a / l;
    }
    rg_i64 dst = (rg_i64) row * window * kvCols + (rg_i64) (starts[row] % window) * kvCols;
    for (int c = head * RG_BDIM + t; c < kvCols; c += heads * RG_BDIM) {
        kc[dst + c] = k[(rg_i64) row * kvCols + c];
        vc[dst + c] = v[(rg_i64) row * kvCols + c];
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

/* Candidates the filtered top-k keeps in shared memory (16 KB of keys and indices). */
#define RG_TOPK_CAP 2048

/*
 * The k largest values of each row in descending Float.compare order, lowest index first on ties; one 256-thread
 * block per row.
 *
 * k <= block size (a sampler's top-k, e.g. 40): three passes over the row. The first gives each thread the
 * largest key of its strided slice; the k-th largest of those maxima is a lower bound of the row's k-th largest
 * key (k distinct elements reach it). Each thread counts its elements at or above that bound (typically k to 2k
 * in all), a prefix sum of the counts gives each thread its slots, a third pass writes them to shared memory (no
 * atomics: the same slots on every device), and they are ranked by (key descending, index ascending): the first k
 * ranks are the answer. Three passes instead of k (k rounds of a block-wide maximum). For k > block size the bound
 * is the lowest key, so every element is gathered; a row whose gathered elements do not fit in RG_TOPK_CAP (many
 * equal values, or k > block size on a wide row) takes the k rounds below.
 *
 * k rounds: a block-wide maximum over the elements that rank below the previous pick (no marks, no sort buffer:
 * the order key (value, -index) is strict).
 */
RG_KERNEL rg_topk(const RG_GLOBAL float* RG_RESTRICT x, int cols, int k, RG_GLOBAL int* RG_RESTRICT ids,
        RG_GLOBAL float* RG_RESTRICT vals) {
    RG_SHARED int bk[256];
    RG_SHARED int bi[256];
    RG_SHARED int candKey[RG_TOPK_CAP];
    RG_SHARED int candIdx[RG_TOPK_CAP];
    RG_SHARED int gathered[1];
    int t = RG_TID;
    const RG_GLOBAL float* xr = x + (rg_i64) RG_BID * cols;
    /* No barrier sits inside a branch (PoCL, which checks these kernels, mishandled that): every thread runs the
       three passes; k > block size gathers every element (bound = the lowest key) and ranks them if they fit. */
    int mine = (int) 0x80000000; /* below every key: rg_sortable never returns it (NaN is made positive) */
    for (int c = t; c < cols; c += RG_BDIM) {
        int key = rg_sortable(xr[c]);
        mine = key > mine ? key : mine;
    }
    bk[t] = mine;
    if (t == 0) {
        bi[0] = (int) 0x80000000;
    }
    RG_SYNC();
    int rank = 0; /* among the maxima, ties by thread: ranks are a permutation, one thread holds rank k - 1 */
    for (int j = 0; j < RG_BDIM; j++) {
        int o = bk[j];
        rank += o > mine || (o == mine && j < t);
    }
    if (k <= RG_BDIM && rank == k - 1) {
        bi[0] = mine;
    }
    RG_SYNC();
    int bound = bi[0];
    int mineCount = 0; /* this thread's elements at or above the bound: its slots follow its predecessors' */
    for (int c = t; c < cols; c += RG_BDIM) {
        mineCount += rg_sortable(xr[c]) >= bound;
    }
    bk[t] = mineCount; /* every thread read the maxima before the barrier above */
    RG_SYNC();
    if (t == 0) {
        int run = 0;
        for (int j = 0; j < RG_BDIM; j++) {
            int cj = bk[j];
            bk[j] = run;
            run += cj;
        }
        gathered[0] = run;
    }
    RG_SYNC();
    int n = gathered[0]; /* the same in every thread */
    int slot = bk[t];
    for (int c = t; c < cols && n <= RG_TOPK_CAP; c += RG_BDIM) {
        int key = rg_sortable(xr[c]);
        if (key >= bound) {
            candKey[slot] = key;
            candIdx[slot] = c;
            slot++;
        }
    }
    RG_SYNC();
    for (int i = t; i < n && n <= RG_TOPK_CAP; i += RG_BDIM) {
        int key = candKey[i];
        int c = candIdx[i];
        int r = 0;
        for (int j = 0; j < n; j++) {
            int o = candKey[j];
            r += o > key || (o == key && candIdx[j] < c);
        }
        if (r < k) {
            ids[(rg_i64) RG_BID * k + r] = c;
            vals[(rg_i64) RG_BID * k + r] = xr[c];
        }
    }
    int pk = 0;
    int pi = -1;
    for (int it = 0; n > RG_TOPK_CAP && it < k; it++) { /* uniform: n is the block's */
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
