/*
 * A stand-in for libcuda.so.1 with the driver API functions rg's CUDA backend binds, so that the FFM bindings
 * (symbol names, argument layouts, out-parameters, error translation), the probe's decisions and the backend's
 * memory paths can be tested on a machine without an NVIDIA driver. Device memory is host memory; kernels are
 * recorded, not run. Variants are chosen at compile time:
 *   -DSTUB_INIT_RESULT=100        cuInit fails (100 = CUDA_ERROR_NO_DEVICE)
 *   -DSTUB_DRIVER_VERSION=10020   what cuDriverGetVersion reports
 *   -DSTUB_CC_MAJOR=7 -DSTUB_CC_MINOR=5   compute capability
 *   -DSTUB_DEVICES=0              devices reported
 * Test-only; written for rg, not derived from NVIDIA's headers beyond the documented C signatures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#ifndef STUB_INIT_RESULT
#define STUB_INIT_RESULT 0
#endif
#ifndef STUB_DRIVER_VERSION
#define STUB_DRIVER_VERSION 12040
#endif
#ifndef STUB_CC_MAJOR
#define STUB_CC_MAJOR 9
#endif
#ifndef STUB_CC_MINOR
#define STUB_CC_MINOR 0
#endif
#ifndef STUB_DEVICES
#define STUB_DEVICES 1
#endif
#define STUB_MAX_ALLOC (1ull << 30)

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

static int initialised = 0;
static long launches = 0;
static char last_kernel[128];
static long live_allocations = 0;

long rgstub_launches(void) { return launches; }
const char *rgstub_last_kernel(void) { return last_kernel; }
long rgstub_live_allocations(void) { return live_allocations; }

static const char *names[][2] = {
    {"CUDA_SUCCESS", "no error"},
    {"CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {"CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
};

static int lookup(int code, const char **name, const char **text) {
    switch (code) {
    case 0: case 1: case 2: case 3: *name = names[code][0]; *text = names[code][1]; return 1;
    case 100: *name = "CUDA_ERROR_NO_DEVICE"; *text = "no CUDA-capable device is detected"; return 1;
    case 218: *name = "CUDA_ERROR_INVALID_PTX"; *text = "a PTX JIT compilation failed"; return 1;
    case 500: *name = "CUDA_ERROR_NOT_FOUND"; *text = "named symbol not found"; return 1;
    case 700: *name = "CUDA_ERROR_ILLEGAL_ADDRESS"; *text = "an illegal memory access was encountered"; return 1;
    default: return 0;
    }
}

CUresult cuGetErrorName(CUresult error, const char **pStr) {
    const char *n, *t;
    if (!lookup(error, &n, &t)) { *pStr = NULL; return 1; }
    *pStr = n;
    return 0;
}

CUresult cuGetErrorString(CUresult error, const char **pStr) {
    const char *n, *t;
    if (!lookup(error, &n, &t)) { *pStr = NULL; return 1; }
    *pStr = t;
    return 0;
}

CUresult cuInit(unsigned int flags) {
    if (flags != 0) return 1;
    if (STUB_INIT_RESULT == 0) initialised = 1;
    return STUB_INIT_RESULT;
}

#define NEED_INIT if (!initialised) return 3

CUresult cuDriverGetVersion(int *v) { *v = STUB_DRIVER_VERSION; return 0; }
CUresult cuDeviceGetCount(int *n) { NEED_INIT; *n = STUB_DEVICES; return 0; }
CUresult cuDeviceGet(int *d, int ordinal) { NEED_INIT; if (ordinal < 0 || ordinal >= STUB_DEVICES) return 101; *d = ordinal; return 0; }
CUresult cuDeviceGetName(char *name, int len, int dev) {
    NEED_INIT;
    if (len < 1 || dev < 0 || dev >= STUB_DEVICES) return 1;
    strncpy(name, "rg stub GPU", (size_t) len - 1);
    name[len - 1] = 0;
    return 0;
}
CUresult cuDeviceGetAttribute(int *v, int attr, int dev) {
    NEED_INIT;
    if (dev < 0 || dev >= STUB_DEVICES) return 101;
    switch (attr) {
    case 16: *v = 132; return 0;
    case 75: *v = STUB_CC_MAJOR; return 0;
    case 76: *v = STUB_CC_MINOR; return 0;
    default: return 1;
    }
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int dev) { NEED_INIT; (void) dev; *bytes = 80ull << 30; return 0; }
static int context_token;
CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) { NEED_INIT; (void) dev; *ctx = &context_token; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int dev) { (void) dev; return 0; }
CUresult cuCtxSetCurrent(void *ctx) { return ctx == &context_token ? 0 : 201; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) { *free_bytes = 79ull << 30; *total = 80ull << 30; return 0; }

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned int n, int *options, void **values) {
    const char *ptx = (const char *) image;
    if (strstr(ptx, ".version") != NULL && strstr(ptx, ".target") != NULL) {
        *module = strdup(ptx);
        return 0;
    }
    for (unsigned int i = 0; i < n; i++) {
        if (options[i] == 5) { /* CU_JIT_ERROR_LOG_BUFFER */
            strcpy((char *) values[i], "stub: not PTX");
        }
    }
    return 218;
}
CUresult cuModuleGetFunction(void **f, void *module, const char *name) {
    char pattern[200];
    snprintf(pattern, sizeof pattern, ".entry %s(", name);
    if (strstr((const char *) module, pattern) == NULL) return 500;
    *f = strdup(name);
    return 0;
}
CUresult cuModuleUnload(void *module) { free(module); return 0; }

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
    if (bytes == 0) return 1;
    if (bytes > STUB_MAX_ALLOC) return 2;
    void *m = malloc(bytes);
    if (m == NULL) return 2;
    live_allocations++;
    *p = (CUdeviceptr) (uintptr_t) m;
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *) (uintptr_t) p); live_allocations--; return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) { memcpy((void *) (uintptr_t) dst, src, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n) { memcpy(dst, (void *) (uintptr_t) src, n); return 0; }
CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    memmove((void *) (uintptr_t) dst, (void *) (uintptr_t) src, n);
    return 0;
}
CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int v, size_t n) {
    unsigned int *d = (unsigned int *) (uintptr_t) dst;
    for (size_t i = 0; i < n; i++) d[i] = v;
    return 0;
}

static int stream_token, event_token;
CUresult cuStreamCreate(void **s, unsigned int flags) { (void) flags; *s = &stream_token; return 0; }
CUresult cuStreamSynchronize(void *s) { return s == &stream_token ? 0 : 400; }
CUresult cuStreamDestroy_v2(void *s) { return s == &stream_token ? 0 : 400; }
CUresult cuEventCreate(void **e, unsigned int flags) { (void) flags; *e = &event_token; return 0; }
CUresult cuEventRecord(void *e, void *s) { return e == &event_token && s == &stream_token ? 0 : 400; }
CUresult cuEventSynchronize(void *e) { return e == &event_token ? 0 : 400; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) { (void) a; (void) b; *ms = 0.25f; return 0; }
CUresult cuEventDestroy_v2(void *e) { return e == &event_token ? 0 : 400; }

CUresult cuLaunchKernel(void *f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by,
        unsigned int bz, unsigned int shared, void *stream, void **params, void **extra) {
    if (f == NULL || params == NULL || extra != NULL || stream != &stream_token) return 1;
    if (gx == 0 || gy == 0 || gz != 1 || bx == 0 || bx > 1024 || by != 1 || bz != 1 || shared != 0) return 1;
    launches++;
    strncpy(last_kernel, (const char *) f, sizeof last_kernel - 1);
    return 0;
}
