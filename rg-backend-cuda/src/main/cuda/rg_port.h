/*
 * rg_port.h: the small portability layer that lets rg_kernels.cu compile both as CUDA C++ (nvcc -> PTX, the
 * shipped kernels) and as OpenCL C 1.2 (the CPU OpenCL run that checks the kernels' logic without a GPU).
 *
 * Rules the kernels follow so that both dialects see the same code:
 *  - work-group ("block") memory is declared with RG_SHARED at the top of a kernel, never in a helper;
 *    helpers receive it as an RG_LOCAL pointer;
 *  - every pointer into device memory is RG_GLOBAL; pointers are base pointers plus explicit element offsets
 *    (OpenCL buffers cannot be offset on the host side);
 *  - no templates, no C++ features; 16-bit floats are carried as rg_u16 and widened by integer code
 *    (the CPU OpenCL device has no cl_khr_fp16);
 *  - every barrier (RG_SYNC) is reached by every thread of the block: threads without work clamp their
 *    indices and skip only their stores.
 * The only functions whose implementation differs between the two dialects are the reductions below
 * (warp shuffles on CUDA, a shared-memory tree on OpenCL) and the f16 widening (hardware cvt on CUDA).
 */
#ifndef RG_PORT_H
#define RG_PORT_H

#if defined(__OPENCL_VERSION__) || defined(__OPENCL_C_VERSION__)
/* ------------------------------------------------------------------ OpenCL C */
#define RG_OPENCL 1
#define RG_KERNEL __kernel void
#define RG_GLOBAL __global
#define RG_LOCAL __local
#define RG_SHARED __local
#define RG_RESTRICT restrict
#define RG_DEVICE static inline
#define RG_TID ((int) get_local_id(0))
#define RG_BID ((int) get_group_id(0))
#define RG_BID_Y ((int) get_group_id(1))
#define RG_BDIM ((int) get_local_size(0))
#define RG_GDIM ((int) get_num_groups(0))
#define RG_SYNC() barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)
typedef uchar rg_u8;
typedef char rg_i8;
typedef ushort rg_u16;
typedef uint rg_u32;
typedef long rg_i64;
typedef uint4 rg_u32x4;
typedef float4 rg_f32x4;
/* no unrolling on the CPU check: PoCL compiles each kernel per work-group size, and unrolled loops around barriers
   (the reductions, the emulated mma) make that compile take minutes */
#define RG_UNROLL
#define RG_AS_FLOAT(u) as_float((uint) (u))
#define RG_AS_UINT(f) as_uint(f)
#define RG_EXP(x) exp(x)
#define RG_TANH(x) tanh(x)
#define RG_SQRT(x) sqrt(x)
#define RG_COS(x) cos(x)
#define RG_SIN(x) sin(x)
#define RG_FMAX(a, b) fmax(a, b)
#define RG_FMA(a, b, c) fma(a, b, c)
#define RG_INF INFINITY

#else
/* ------------------------------------------------------------------ CUDA */
#define RG_CUDA 1
#include <cuda_fp16.h>
#define RG_KERNEL extern "C" __global__ void
#define RG_GLOBAL
#define RG_LOCAL
#define RG_SHARED __shared__
#define RG_RESTRICT __restrict__
#define RG_DEVICE static __device__ __forceinline__
#define RG_TID ((int) threadIdx.x)
#define RG_BID ((int) blockIdx.x)
#define RG_BID_Y ((int) blockIdx.y)
#define RG_BDIM ((int) blockDim.x)
#define RG_GDIM ((int) gridDim.x)
#define RG_SYNC() __syncthreads()
typedef unsigned char rg_u8;
typedef signed char rg_i8;
typedef unsigned short rg_u16;
typedef unsigned int rg_u32;
typedef long long rg_i64;
typedef uint4 rg_u32x4;
typedef float4 rg_f32x4;
#define RG_UNROLL _Pragma("unroll")
#define RG_AS_FLOAT(u) __uint_as_float((unsigned int) (u))
#define RG_AS_UINT(f) __float_as_uint(f)
#define RG_EXP(x) expf(x)
#define RG_TANH(x) tanhf(x)
#define RG_SQRT(x) sqrtf(x)
#define RG_COS(x) cosf(x)
#define RG_SIN(x) sinf(x)
#define RG_FMAX(a, b) fmaxf(a, b)
#define RG_FMA(a, b, c) fmaf(a, b, c)
#define RG_INF __int_as_float(0x7f800000)
#endif

/* ------------------------------------------------------------------ numbers */

/* bfloat16 bits -> float32 (exact). */
RG_DEVICE float rg_bf16(rg_u32 bits) {
    return RG_AS_FLOAT(bits << 16);
}

/* IEEE binary16 bits -> float32 (exact, subnormals, inf and NaN included). */
RG_DEVICE float rg_f16(rg_u32 h) {
#ifdef RG_CUDA
    return __half2float(__ushort_as_half((unsigned short) h));
#else
    rg_u32 sign = (h & 0x8000u) << 16;
    rg_u32 exp = (h >> 10) & 0x1fu;
    rg_u32 man = h & 0x3ffu;
    if (exp == 0x1fu) {
        return RG_AS_FLOAT(sign | 0x7f800000u | (man << 13));
    }
    if (exp == 0u) {
        /* zero or subnormal: man * 2^-24, exact in float32 */
        float v = (float) man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return RG_AS_FLOAT(sign | ((exp + 112u) << 23) | (man << 13));
#endif
}

/* Weight storage formats: the codes of rg-api's dev.rg.api.format.FormatCodes (FormatCodesInHeaderTest checks they agree). */
#define RG_FMT_F32 0
#define RG_FMT_BF16 1
#define RG_FMT_F16 2
#define RG_FMT_I8 3
#define RG_FMT_Q4 4

/* Element idx of a dense weight stored in fmt (f32, bf16 or f16), as float32. */
RG_DEVICE float rg_dense(const RG_GLOBAL rg_u8* base, int fmt, rg_i64 idx) {
    if (fmt == RG_FMT_F32) {
        return ((const RG_GLOBAL float*) base)[idx];
    }
    rg_u32 bits = ((const RG_GLOBAL rg_u16*) base)[idx];
    return fmt == RG_FMT_BF16 ? rg_bf16(bits) : rg_f16(bits);
}

/* A total order on floats equal to java.lang.Float.compare (for -0.0 < 0.0; NaN above everything). */
RG_DEVICE int rg_sortable(float v) {
    int b = (int) RG_AS_UINT(v);
    if (v != v) {
        b = 0x7fc00000;
    }
    return b ^ ((b >> 31) & 0x7fffffff);
}

/* ------------------------------------------------------------------ reductions */

/*
 * Sum over each aligned group of 32 threads; every thread of the block must call it (uniformly), the result is
 * valid in every thread of the group. scratch: RG_BDIM floats of shared memory.
 */
RG_DEVICE float rg_sum32(float v, RG_LOCAL float* scratch) {
#ifdef RG_CUDA
    (void) scratch;
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
#else
    int t = RG_TID;
    int lane = t & 31;
    scratch[t] = v;
    RG_SYNC();
    for (int o = 16; o > 0; o >>= 1) {
        if (lane < o) {
            scratch[t] += scratch[t + o];
        }
        RG_SYNC();
    }
    float r = scratch[t - lane];
    RG_SYNC();
    return r;
#endif
}

/* Sum over the whole block (RG_BDIM a multiple of 32, at most 1024); result in every thread. */
RG_DEVICE float rg_block_sum(float v, RG_LOCAL float* scratch) {
#ifdef RG_CUDA
    int t = RG_TID;
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    if ((t & 31) == 0) {
        scratch[t >> 5] = v;
    }
    __syncthreads();
    int warps = RG_BDIM >> 5;
    float s = (t & 31) < warps ? scratch[t & 31] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) {
        s += __shfl_xor_sync(0xffffffffu, s, o);
    }
    __syncthreads();
    return s;
#else
    int t = RG_TID;
    scratch[t] = v;
    RG_SYNC();
    for (int o = RG_BDIM >> 1; o > 0; o >>= 1) {
        if (t < o) {
            scratch[t] += scratch[t + o];
        }
        RG_SYNC();
    }
    float r = scratch[0];
    RG_SYNC();
    return r;
#endif
}

/* Maximum over the whole block; result in every thread. */
RG_DEVICE float rg_block_max(float v, RG_LOCAL float* scratch) {
#ifdef RG_CUDA
    int t = RG_TID;
    for (int o = 16; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    }
    if ((t & 31) == 0) {
        scratch[t >> 5] = v;
    }
    __syncthreads();
    int warps = RG_BDIM >> 5;
    float s = (t & 31) < warps ? scratch[t & 31] : -RG_INF;
    for (int o = 16; o > 0; o >>= 1) {
        s = fmaxf(s, __shfl_xor_sync(0xffffffffu, s, o));
    }
    __syncthreads();
    return s;
#else
    int t = RG_TID;
    scratch[t] = v;
    RG_SYNC();
    for (int o = RG_BDIM >> 1; o > 0; o >>= 1) {
        if (t < o) {
            scratch[t] = fmax(scratch[t], scratch[t + o]);
        }
        RG_SYNC();
    }
    float r = scratch[0];
    RG_SYNC();
    return r;
#endif
}

#endif /* RG_PORT_H */
