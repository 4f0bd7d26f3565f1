package dev.rg.backend.cuda.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
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
import java.util.ArrayList;
import java.util.List;

/**
 * The OpenCL 1.2 host API calls the test double needs, bound with FFM against {@code libOpenCL.so.1} (the ICD
 * loader; PoCL provides a CPU device behind it). Every {@code cl_int} error becomes an exception naming the call.
 */
public final class OpenCl {
    public static final String LIBRARY = "libOpenCL.so.1";
    static final long CL_DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    static final int CL_DEVICE_NAME = 0x102B;
    static final int CL_PLATFORM_NAME = 0x0902;
    static final int CL_PROGRAM_BUILD_LOG = 0x1183;
    static final long CL_MEM_READ_WRITE = 1;

    /** The build log of the last successful build (warnings), for the tests. */
    volatile String lastBuildLog = "";

    private final MethodHandle clGetPlatformIDs;
    private final MethodHandle clGetPlatformInfo;
    private final MethodHandle clGetDeviceIDs;
    private final MethodHandle clGetDeviceInfo;
    private final MethodHandle clCreateContext;
    private final MethodHandle clCreateCommandQueue;
    private final MethodHandle clCreateProgramWithSource;
    private final MethodHandle clBuildProgram;
    private final MethodHandle clGetProgramBuildInfo;
    private final MethodHandle clCreateKernel;
    private final MethodHandle clSetKernelArg;
    private final MethodHandle clEnqueueNDRangeKernel;
    private final MethodHandle clCreateBuffer;
    private final MethodHandle clEnqueueReadBuffer;
    private final MethodHandle clEnqueueWriteBuffer;
    private final MethodHandle clEnqueueCopyBuffer;
    private final MethodHandle clEnqueueFillBuffer;
    private final MethodHandle clFinish;
    private final MethodHandle clReleaseMemObject;
    private final MethodHandle clReleaseKernel;
    private final MethodHandle clReleaseProgram;
    private final MethodHandle clReleaseCommandQueue;
    private final MethodHandle clReleaseContext;

    private OpenCl(SymbolLookup lookup) {
        Linker linker = Linker.nativeLinker();
        java.util.function.BiFunction<String, MemoryLayout[], MethodHandle> intFn = (name, args) -> linker.downcallHandle(
                lookup.find(name).orElseThrow(() -> new IllegalStateException(LIBRARY + " lacks " + name)),
                FunctionDescriptor.of(JAVA_INT, args));
        java.util.function.BiFunction<String, MemoryLayout[], MethodHandle> ptrFn = (name, args) -> linker.downcallHandle(
                lookup.find(name).orElseThrow(() -> new IllegalStateException(LIBRARY + " lacks " + name)),
                FunctionDescriptor.of(ADDRESS, args));
        clGetPlatformIDs = intFn.apply("clGetPlatformIDs", new MemoryLayout[] {JAVA_INT, ADDRESS, ADDRESS});
        clGetPlatformInfo = intFn.apply("clGetPlatformInfo", new MemoryLayout[] {ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS});
        clGetDeviceIDs = intFn.apply("clGetDeviceIDs", new MemoryLayout[] {ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS});
        clGetDeviceInfo = intFn.apply("clGetDeviceInfo", new MemoryLayout[] {ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS});
        clCreateContext = ptrFn.apply("clCreateContext", new MemoryLayout[] {ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS});
        clCreateCommandQueue = ptrFn.apply("clCreateCommandQueue", new MemoryLayout[] {ADDRESS, ADDRESS, JAVA_LONG, ADDRESS});
        clCreateProgramWithSource = ptrFn.apply("clCreateProgramWithSource",
                new MemoryLayout[] {ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS});
        clBuildProgram = intFn.apply("clBuildProgram", new MemoryLayout[] {ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS});
        clGetProgramBuildInfo = intFn.apply("clGetProgramBuildInfo",
                new MemoryLayout[] {ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS});
        clCreateKernel = ptrFn.apply("clCreateKernel", new MemoryLayout[] {ADDRESS, ADDRESS, ADDRESS});
        clSetKernelArg = intFn.apply("clSetKernelArg", new MemoryLayout[] {ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS});
        clEnqueueNDRangeKernel = intFn.apply("clEnqueueNDRangeKernel",
                new MemoryLayout[] {ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS});
        clCreateBuffer = ptrFn.apply("clCreateBuffer", new MemoryLayout[] {ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS});
        clEnqueueReadBuffer = intFn.apply("clEnqueueReadBuffer",
                new MemoryLayout[] {ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS});
        clEnqueueWriteBuffer = intFn.apply("clEnqueueWriteBuffer",
                new MemoryLayout[] {ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS});
        clEnqueueCopyBuffer = intFn.apply("clEnqueueCopyBuffer",
                new MemoryLayout[] {ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS});
        clEnqueueFillBuffer = intFn.apply("clEnqueueFillBuffer",
                new MemoryLayout[] {ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS});
        clFinish = intFn.apply("clFinish", new MemoryLayout[] {ADDRESS});
        clReleaseMemObject = intFn.apply("clReleaseMemObject", new MemoryLayout[] {ADDRESS});
        clReleaseKernel = intFn.apply("clReleaseKernel", new MemoryLayout[] {ADDRESS});
        clReleaseProgram = intFn.apply("clReleaseProgram", new MemoryLayout[] {ADDRESS});
        clReleaseCommandQueue = intFn.apply("clReleaseCommandQueue", new MemoryLayout[] {ADDRESS});
        clReleaseContext = intFn.apply("clReleaseContext", new MemoryLayout[] {ADDRESS});
    }

    /** Loads the ICD loader, or throws with the reason. */
    public static OpenCl load() {
        try {
            return new OpenCl(SymbolLookup.libraryLookup(LIBRARY, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(LIBRARY + " not found (install ocl-icd-libopencl1 and pocl-opencl-icd)", e);
        }
    }

    /** An OpenCL error. */
    public static final class ClException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int code;

        ClException(String call, int code, String detail) {
            super(call + " failed: cl error " + code + (detail == null ? "" : "\n" + detail));
            this.code = code;
        }
    }

    static void check(int err, String call) {
        if (err != 0) {
            throw new ClException(call, err, null);
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

    /** A device with its platform. */
    public record Device(MemorySegment platform, MemorySegment device, String platformName, String name) {}

    /** Every device of every platform (empty when no ICD is installed). */
    public List<Device> devices() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocate(JAVA_INT);
            int err = (int) clGetPlatformIDs.invokeExact(0, MemorySegment.NULL, n);
            if (err == -1001 || n.get(JAVA_INT, 0) == 0) { // CL_PLATFORM_NOT_FOUND_KHR
                return List.of();
            }
            check(err, "clGetPlatformIDs");
            int count = n.get(JAVA_INT, 0);
            MemorySegment ps = a.allocate(ADDRESS, count);
            check((int) clGetPlatformIDs.invokeExact(count, ps, n), "clGetPlatformIDs");
            List<Device> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                MemorySegment p = ps.getAtIndex(ADDRESS, i);
                String pname = info(clGetPlatformInfo, p, CL_PLATFORM_NAME);
                MemorySegment dn = a.allocate(JAVA_INT);
                int e = (int) clGetDeviceIDs.invokeExact(p, CL_DEVICE_TYPE_ALL, 0, MemorySegment.NULL, dn);
                if (e != 0 || dn.get(JAVA_INT, 0) == 0) {
                    continue;
                }
                int dc = dn.get(JAVA_INT, 0);
                MemorySegment ds = a.allocate(ADDRESS, dc);
                check((int) clGetDeviceIDs.invokeExact(p, CL_DEVICE_TYPE_ALL, dc, ds, dn), "clGetDeviceIDs");
                for (int j = 0; j < dc; j++) {
                    MemorySegment d = ds.getAtIndex(ADDRESS, j);
                    out.add(new Device(p, d, pname, info(clGetDeviceInfo, d, CL_DEVICE_NAME)));
                }
            }
            return out;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static String info(MethodHandle h, MemorySegment obj, int param) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(1024);
            MemorySegment size = a.allocate(JAVA_LONG);
            check((int) h.invokeExact(obj, param, 1024L, buf, size), "clGet*Info");
            return buf.getString(0, StandardCharsets.UTF_8).strip();
        }
    }

    public MemorySegment createContext(MemorySegment device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment devs = a.allocate(ADDRESS);
            devs.set(ADDRESS, 0, device);
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment ctx = (MemorySegment) clCreateContext.invokeExact(MemorySegment.NULL, 1, devs, MemorySegment.NULL,
                    MemorySegment.NULL, err);
            check(err.get(JAVA_INT, 0), "clCreateContext");
            return ctx;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment createQueue(MemorySegment context, MemorySegment device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment q = (MemorySegment) clCreateCommandQueue.invokeExact(context, device, 0L, err);
            check(err.get(JAVA_INT, 0), "clCreateCommandQueue");
            return q;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Creates and builds a program; a build failure's message carries the build log. */
    public MemorySegment buildProgram(MemorySegment context, MemorySegment device, String source, String options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocateFrom(source);
            MemorySegment strings = a.allocate(ADDRESS);
            strings.set(ADDRESS, 0, src);
            MemorySegment lengths = a.allocate(JAVA_LONG);
            lengths.set(JAVA_LONG, 0, src.byteSize() - 1);
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment program = (MemorySegment) clCreateProgramWithSource.invokeExact(context, 1, strings, lengths, err);
            check(err.get(JAVA_INT, 0), "clCreateProgramWithSource");
            MemorySegment devs = a.allocate(ADDRESS);
            devs.set(ADDRESS, 0, device);
            int r = (int) clBuildProgram.invokeExact(program, 1, devs, a.allocateFrom(options), MemorySegment.NULL,
                    MemorySegment.NULL);
            MemorySegment size = a.allocate(JAVA_LONG);
            int e = (int) clGetProgramBuildInfo.invokeExact(program, device, CL_PROGRAM_BUILD_LOG, 0L, MemorySegment.NULL, size);
            String log = "";
            if (e == 0 && size.get(JAVA_LONG, 0) > 1) {
                MemorySegment buf = a.allocate(size.get(JAVA_LONG, 0) + 1);
                e = (int) clGetProgramBuildInfo.invokeExact(program, device, CL_PROGRAM_BUILD_LOG, buf.byteSize(), buf,
                        MemorySegment.NULL);
                log = e == 0 ? buf.getString(0, StandardCharsets.UTF_8).strip() : "";
            }
            if (r != 0) {
                throw new ClException("clBuildProgram", r, "build log:\n" + log);
            }
            lastBuildLog = log;
            return program;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment createKernel(MemorySegment program, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment k = (MemorySegment) clCreateKernel.invokeExact(program, a.allocateFrom(name), err);
            check(err.get(JAVA_INT, 0), "clCreateKernel(" + name + ")");
            return k;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void setArg(MemorySegment kernel, int index, MemorySegment value) {
        try {
            check((int) clSetKernelArg.invokeExact(kernel, index, value.byteSize(), value), "clSetKernelArg(" + index + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Enqueues a 2-D NDRange; {@code global} and {@code local} hold two size_t each. */
    public void enqueue(MemorySegment queue, MemorySegment kernel, MemorySegment global, MemorySegment local, String name) {
        try {
            check((int) clEnqueueNDRangeKernel.invokeExact(queue, kernel, 2, MemorySegment.NULL, global, local, 0,
                    MemorySegment.NULL, MemorySegment.NULL), "clEnqueueNDRangeKernel(" + name + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment createBuffer(MemorySegment context, long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment b = (MemorySegment) clCreateBuffer.invokeExact(context, CL_MEM_READ_WRITE, bytes, MemorySegment.NULL, err);
            check(err.get(JAVA_INT, 0), "clCreateBuffer(" + bytes + ")");
            return b;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Blocking write of all of {@code src} (native memory). */
    public void write(MemorySegment queue, MemorySegment buffer, long offset, MemorySegment src) {
        try {
            check((int) clEnqueueWriteBuffer.invokeExact(queue, buffer, 1, offset, src.byteSize(), src, 0, MemorySegment.NULL,
                    MemorySegment.NULL), "clEnqueueWriteBuffer");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Blocking read filling {@code dst} (native memory). */
    public void read(MemorySegment queue, MemorySegment buffer, long offset, MemorySegment dst) {
        try {
            check((int) clEnqueueReadBuffer.invokeExact(queue, buffer, 1, offset, dst.byteSize(), dst, 0, MemorySegment.NULL,
                    MemorySegment.NULL), "clEnqueueReadBuffer");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void copy(MemorySegment queue, MemorySegment src, MemorySegment dst, long srcOffset, long dstOffset, long bytes) {
        try {
            check((int) clEnqueueCopyBuffer.invokeExact(queue, src, dst, srcOffset, dstOffset, bytes, 0, MemorySegment.NULL,
                    MemorySegment.NULL), "clEnqueueCopyBuffer");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void fill32(MemorySegment queue, MemorySegment buffer, int pattern, long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            p.set(JAVA_INT, 0, pattern);
            check((int) clEnqueueFillBuffer.invokeExact(queue, buffer, p, 4L, 0L, bytes, 0, MemorySegment.NULL,
                    MemorySegment.NULL), "clEnqueueFillBuffer");
            finish(queue); // the pattern segment dies with this arena
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void finish(MemorySegment queue) {
        try {
            check((int) clFinish.invokeExact(queue), "clFinish");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void releaseBuffer(MemorySegment b) {
        release(clReleaseMemObject, b, "clReleaseMemObject");
    }

    public void releaseKernel(MemorySegment k) {
        release(clReleaseKernel, k, "clReleaseKernel");
    }

    public void releaseProgram(MemorySegment p) {
        release(clReleaseProgram, p, "clReleaseProgram");
    }

    public void releaseQueue(MemorySegment q) {
        release(clReleaseCommandQueue, q, "clReleaseCommandQueue");
    }

    public void releaseContext(MemorySegment c) {
        release(clReleaseContext, c, "clReleaseContext");
    }

    private static void release(MethodHandle h, MemorySegment obj, String call) {
        try {
            check((int) h.invokeExact(obj), call);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
