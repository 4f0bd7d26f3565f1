package dev.rg.backend.cuda.driver;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * The CUDA driver API calls rg uses, bound with the FFM API ({@code java.lang.foreign}): no JNI, no native build.
 * An instance exists only after {@link #load()} found the driver library, which happens only when the CUDA backend
 * is probed or created, never when its provider is merely listed. Every {@code CUresult} other than
 * {@code CUDA_SUCCESS} becomes a {@link CudaException} that names the call and the error.
 *
 * <p>Types on x86-64/aarch64 Linux: {@code CUresult}, {@code CUdevice}, enums and {@code unsigned int} are 32-bit;
 * {@code CUdeviceptr} and {@code size_t} 64-bit; handles ({@code CUcontext}, {@code CUmodule}, ...) pointers.
 */
public final class CudaDriver {
    /** The library the NVIDIA driver installs. */
    public static final String LIBRARY = "libcuda.so.1";
    /** System property naming another library file (a test stub, or a driver in an unusual place). */
    public static final String LIBRARY_PROPERTY = "rg.cuda.library";

    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    static final int CU_JIT_INFO_LOG_BUFFER = 3;
    static final int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
    static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    static final int CU_JIT_LOG_VERBOSE = 12;

    /** Thrown by {@link #load()} when the driver library cannot be loaded. */
    public static final class LibraryNotFoundException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LibraryNotFoundException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String library;
    private final MethodHandle cuInit;
    private final MethodHandle cuDriverGetVersion;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDeviceTotalMem;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuDevicePrimaryCtxRelease;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuCtxSynchronize;
    private final MethodHandle cuMemGetInfo;
    private final MethodHandle cuModuleLoadDataEx;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuModuleUnload;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemcpyHtoD;
    private final MethodHandle cuMemcpyDtoH;
    private final MethodHandle cuMemcpyDtoD;
    private final MethodHandle cuMemsetD32;
    private final MethodHandle cuStreamCreate;
    private final MethodHandle cuStreamSynchronize;
    private final MethodHandle cuStreamDestroy;
    private final MethodHandle cuEventCreate;
    private final MethodHandle cuEventRecord;
    private final MethodHandle cuEventSynchronize;
    private final MethodHandle cuEventElapsedTime;
    private final MethodHandle cuEventDestroy;
    private final MethodHandle cuLaunchKernel;
    private final MethodHandle cuGetErrorName;
    /** CUDA graphs (stream capture); null when the driver lacks them (then {@link #hasGraphs} is false). */
    private final MethodHandle cuStreamBeginCapture;
    private final MethodHandle cuStreamEndCapture;
    private final MethodHandle cuGraphInstantiateWithFlags;
    private final MethodHandle cuGraphLaunch;
    private final MethodHandle cuGraphExecDestroy;
    private final MethodHandle cuGraphDestroy;
    private final MethodHandle cuGetErrorString;

    private final java.util.List<String> graphsMissing;

    private CudaDriver(String library, SymbolLookup lookup) {
        this.library = library;
        Binder b = new Binder(lookup);
        cuGetErrorName = b.bind("cuGetErrorName", JAVA_INT, ADDRESS);
        cuGetErrorString = b.bind("cuGetErrorString", JAVA_INT, ADDRESS);
        cuInit = b.bind("cuInit", JAVA_INT);
        cuDriverGetVersion = b.bind("cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = b.bind("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = b.bind("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = b.bind("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceGetAttribute = b.bind("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = b.bind("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRetain = b.bind("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = b.bind("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        cuCtxSetCurrent = b.bind("cuCtxSetCurrent", ADDRESS);
        cuCtxSynchronize = b.bind("cuCtxSynchronize");
        cuMemGetInfo = b.bind("cuMemGetInfo_v2", ADDRESS, ADDRESS);
        cuModuleLoadDataEx = b.bind("cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        cuModuleGetFunction = b.bind("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuModuleUnload = b.bind("cuModuleUnload", ADDRESS);
        cuMemAlloc = b.bind("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = b.bind("cuMemFree_v2", JAVA_LONG);
        cuMemcpyHtoD = b.bind("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyDtoH = b.bind("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyDtoD = b.bind("cuMemcpyDtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
        cuMemsetD32 = b.bind("cuMemsetD32_v2", JAVA_LONG, JAVA_INT, JAVA_LONG);
        cuStreamCreate = b.bind("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamSynchronize = b.bind("cuStreamSynchronize", ADDRESS);
        cuStreamDestroy = b.bind("cuStreamDestroy_v2", ADDRESS);
        cuEventCreate = b.bind("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = b.bind("cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = b.bind("cuEventSynchronize", ADDRESS);
        cuEventElapsedTime = b.bind("cuEventElapsedTime", ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = b.bind("cuEventDestroy_v2", ADDRESS);
        cuLaunchKernel = b.bind("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        // optional: graphs are an option (graphs=on), a driver without them (before CUDA 11.4) still runs eagerly
        Binder g = new Binder(lookup);
        cuStreamBeginCapture = g.bind("cuStreamBeginCapture_v2", ADDRESS, JAVA_INT);
        cuStreamEndCapture = g.bind("cuStreamEndCapture", ADDRESS, ADDRESS);
        cuGraphInstantiateWithFlags = g.bind("cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG);
        cuGraphLaunch = g.bind("cuGraphLaunch", ADDRESS, ADDRESS);
        cuGraphExecDestroy = g.bind("cuGraphExecDestroy", ADDRESS);
        cuGraphDestroy = g.bind("cuGraphDestroy", ADDRESS);
        graphsMissing = java.util.List.copyOf(g.missing);
        if (!b.missing.isEmpty()) {
            throw new LibraryNotFoundException(library + " lacks the driver functions " + b.missing
                    + " (not an NVIDIA CUDA driver, or one too old)", null);
        }
    }

    /** Binds {@code int f(args...)} functions and collects the names it could not find. */
    private static final class Binder {
        private final SymbolLookup lookup;
        private final Linker linker = Linker.nativeLinker();
        final java.util.List<String> missing = new java.util.ArrayList<>();

        Binder(SymbolLookup lookup) {
            this.lookup = lookup;
        }

        MethodHandle bind(String name, MemoryLayout... args) {
            var symbol = lookup.find(name);
            if (symbol.isEmpty()) {
                missing.add(name);
                return null;
            }
            return linker.downcallHandle(symbol.get(), FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    /**
     * Loads the driver library ({@value #LIBRARY}, or the file named by {@value #LIBRARY_PROPERTY}) and binds the
     * functions. Nothing is initialised yet: call {@link #init()}.
     *
     * @throws LibraryNotFoundException when the library is absent or not a CUDA driver
     */
    public static CudaDriver load() {
        String name = System.getProperty(LIBRARY_PROPERTY, LIBRARY);
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            throw new LibraryNotFoundException(name + " not found (no NVIDIA driver)", e);
        }
        return new CudaDriver(name, lookup);
    }

    /** The library file this driver was loaded from. */
    public String library() {
        return library;
    }

    // ------------------------------------------------------------------ errors

    /** Throws a {@link CudaException} unless {@code result} is {@code CUDA_SUCCESS}. */
    public void check(int result, String call) {
        if (result != CuResult.SUCCESS) {
            throw new CudaException(call, result, errorName(result), errorString(result));
        }
    }

    /** The driver's name for an error code, or the built-in table's when the driver does not know it. */
    public String errorName(int code) {
        String s = errorText(cuGetErrorName, code);
        return s != null ? s : CuResult.name(code);
    }

    /** The driver's description of an error code, or "" when it has none. */
    public String errorString(int code) {
        String s = errorText(cuGetErrorString, code);
        return s != null ? s : "";
    }

    private static String errorText(MethodHandle h, int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int r = (int) h.invokeExact(code, out);
            MemorySegment p = out.get(ADDRESS, 0);
            if (r != 0 || p.address() == 0) {
                return null;
            }
            return p.reinterpret(4096).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return null;
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    // ------------------------------------------------------------------ device and context

    public void init() {
        try {
            check((int) cuInit.invokeExact(0), "cuInit(0)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code cuDriverGetVersion}: 1000*major + 10*minor, e.g. 12040 for CUDA 12.4. */
    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDriverGetVersion.invokeExact(v), "cuDriverGetVersion");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGetCount.invokeExact(v), "cuDeviceGetCount");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The {@code CUdevice} of an ordinal. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGet.invokeExact(v, ordinal), "cuDeviceGet(" + ordinal + ")");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(buf, 256, device), "cuDeviceGetName");
            return buf.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int attribute(int device, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) cuDeviceGetAttribute.invokeExact(v, attribute, device), "cuDeviceGetAttribute(" + attribute + ")");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long totalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            check((int) cuDeviceTotalMem.invokeExact(v, device), "cuDeviceTotalMem_v2");
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code cuDevicePrimaryCtxRetain}: the device's primary context (shared with any other CUDA user in the process). */
    public MemorySegment primaryContextRetain(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            check((int) cuDevicePrimaryCtxRetain.invokeExact(v, device), "cuDevicePrimaryCtxRetain");
            return v.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void primaryContextRelease(int device) {
        try {
            check((int) cuDevicePrimaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void setCurrent(MemorySegment context) {
        try {
            check((int) cuCtxSetCurrent.invokeExact(context), "cuCtxSetCurrent");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void contextSynchronize() {
        try {
            check((int) cuCtxSynchronize.invokeExact(), "cuCtxSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code {free, total}} bytes of the current context's device. */
    public long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            check((int) cuMemGetInfo.invokeExact(free, total), "cuMemGetInfo_v2");
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ modules

    /**
     * {@code cuModuleLoadDataEx} with the JIT's info and error logs captured; a failure's message carries the error
     * log (e.g. the PTX line the JIT refused).
     *
     * @param image NUL-terminated PTX
     */
    public MemorySegment loadModule(MemorySegment image) {
        int logSize = 16384;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(logSize);
            MemorySegment error = a.allocate(logSize);
            MemorySegment options = a.allocate(JAVA_INT, 5);
            MemorySegment values = a.allocate(ADDRESS, 5);
            int[] opts = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES, CU_JIT_ERROR_LOG_BUFFER,
                    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, CU_JIT_LOG_VERBOSE};
            MemorySegment[] vals = {info, MemorySegment.ofAddress(logSize), error, MemorySegment.ofAddress(logSize),
                    MemorySegment.ofAddress(0)};
            for (int i = 0; i < 5; i++) {
                options.setAtIndex(JAVA_INT, i, opts[i]);
                values.setAtIndex(ADDRESS, i, vals[i]);
            }
            MemorySegment module = a.allocate(ADDRESS);
            int r = (int) cuModuleLoadDataEx.invokeExact(module, image, 5, options, values);
            if (r != CuResult.SUCCESS) {
                String log = error.getString(0, StandardCharsets.UTF_8).strip();
                throw new CudaException("cuModuleLoadDataEx(" + image.byteSize() + " bytes of PTX)" + (log.isEmpty() ? ""
                        : " [JIT error log: " + log + "]"), r, errorName(r), errorString(r));
            }
            return module.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment function(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(ADDRESS);
            check((int) cuModuleGetFunction.invokeExact(f, module, a.allocateFrom(name)), "cuModuleGetFunction(" + name + ")");
            return f.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void unloadModule(MemorySegment module) {
        try {
            check((int) cuModuleUnload.invokeExact(module), "cuModuleUnload");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ memory

    /** {@code cuMemAlloc_v2}: a device pointer to {@code bytes} bytes. */
    public long allocate(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check((int) cuMemAlloc.invokeExact(p, bytes), "cuMemAlloc_v2(" + bytes + " bytes)");
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void free(long pointer) {
        try {
            check((int) cuMemFree.invokeExact(pointer), "cuMemFree_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Synchronous host-to-device copy of all of {@code src} (native memory). */
    public void copyHtoD(long dst, MemorySegment src) {
        try {
            check((int) cuMemcpyHtoD.invokeExact(dst, src, src.byteSize()), "cuMemcpyHtoD_v2(" + src.byteSize() + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Synchronous device-to-host copy filling {@code dst} (native memory). */
    public void copyDtoH(MemorySegment dst, long src) {
        try {
            check((int) cuMemcpyDtoH.invokeExact(dst, src, dst.byteSize()), "cuMemcpyDtoH_v2(" + dst.byteSize() + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void copyDtoD(long dst, long src, long bytes) {
        try {
            check((int) cuMemcpyDtoD.invokeExact(dst, src, bytes), "cuMemcpyDtoD_v2(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memsetD32(long dst, int value, long words) {
        try {
            check((int) cuMemsetD32.invokeExact(dst, value, words), "cuMemsetD32_v2(" + words + " words)");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ streams, events, launches

    public MemorySegment createStream(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(ADDRESS);
            check((int) cuStreamCreate.invokeExact(s, flags), "cuStreamCreate");
            return s.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void synchronize(MemorySegment stream) {
        try {
            check((int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyStream(MemorySegment stream) {
        try {
            check((int) cuStreamDestroy.invokeExact(stream), "cuStreamDestroy_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment createEvent(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(ADDRESS);
            check((int) cuEventCreate.invokeExact(e, flags), "cuEventCreate");
            return e.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void record(MemorySegment event, MemorySegment stream) {
        try {
            check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void synchronizeEvent(MemorySegment event) {
        try {
            check((int) cuEventSynchronize.invokeExact(event), "cuEventSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Milliseconds between two recorded events. */
    public float elapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            check((int) cuEventElapsedTime.invokeExact(ms, start, end), "cuEventElapsedTime");
            return ms.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyEvent(MemorySegment event) {
        try {
            check((int) cuEventDestroy.invokeExact(event), "cuEventDestroy_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code cuLaunchKernel} with a 2-D grid and 1-D blocks, no dynamic shared memory.
     *
     * @param params {@code void*[]}: one pointer per kernel parameter, to its value
     */
    public void launch(MemorySegment function, int gridX, int gridY, int block, MemorySegment stream, MemorySegment params,
            String name) {
        try {
            int r = (int) cuLaunchKernel.invokeExact(function, gridX, gridY, 1, block, 1, 1, 0, stream, params,
                    MemorySegment.NULL);
            if (r != 0) {
                check(r, "cuLaunchKernel(" + name + ", grid " + gridX + "x" + gridY + ", block " + block + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ------------------------------------------------------------------ graphs (stream capture)

    /** Whether the driver has the graph functions (CUDA 11.4 and later). */
    public boolean hasGraphs() {
        return graphsMissing.isEmpty();
    }

    private void requireGraphs() {
        if (!hasGraphs()) {
            throw new IllegalStateException(library + " lacks the graph functions " + graphsMissing);
        }
    }

    /** Starts capturing {@code stream}'s launches into a graph (thread-local mode: other threads are not affected). */
    public void beginCapture(MemorySegment stream) {
        requireGraphs();
        try {
            check((int) cuStreamBeginCapture.invokeExact(stream, 1 /* CU_STREAM_CAPTURE_MODE_THREAD_LOCAL */),
                    "cuStreamBeginCapture_v2");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Ends the capture of {@code stream}: the graph of what was launched into it (NULL if the capture failed). */
    public MemorySegment endCapture(MemorySegment stream) {
        requireGraphs();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment g = a.allocate(ADDRESS);
            g.set(ADDRESS, 0, MemorySegment.NULL);
            int r = (int) cuStreamEndCapture.invokeExact(stream, g);
            MemorySegment graph = g.get(ADDRESS, 0);
            if (r != 0) {
                if (!graph.equals(MemorySegment.NULL)) {
                    destroyGraph(graph);
                }
                check(r, "cuStreamEndCapture");
            }
            return graph;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An executable graph of {@code graph} (which may be destroyed afterwards). */
    public MemorySegment instantiate(MemorySegment graph) {
        requireGraphs();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(ADDRESS);
            check((int) cuGraphInstantiateWithFlags.invokeExact(e, graph, 0L), "cuGraphInstantiateWithFlags");
            return e.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void launchGraph(MemorySegment exec, MemorySegment stream) {
        requireGraphs();
        try {
            check((int) cuGraphLaunch.invokeExact(exec, stream), "cuGraphLaunch");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyGraphExec(MemorySegment exec) {
        requireGraphs();
        try {
            check((int) cuGraphExecDestroy.invokeExact(exec), "cuGraphExecDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyGraph(MemorySegment graph) {
        requireGraphs();
        try {
            check((int) cuGraphDestroy.invokeExact(graph), "cuGraphDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
