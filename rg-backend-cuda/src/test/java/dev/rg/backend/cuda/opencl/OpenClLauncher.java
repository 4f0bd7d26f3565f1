package dev.rg.backend.cuda.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.rg.backend.cuda.device.Kernel;
import dev.rg.backend.cuda.device.KernelLauncher;
import dev.rg.backend.cuda.device.Launch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;

/**
 * {@link KernelLauncher} over OpenCL: the same kernel sources built as OpenCL C, the same launches (a CUDA grid of
 * {@code gridX x gridY} blocks of {@code block} threads becomes an NDRange of global size
 * {@code (gridX*block, gridY)}, local size {@code (block, 1)}), one in-order queue.
 */
final class OpenClLauncher extends KernelLauncher {
    private final OpenCl cl;
    private final String description;
    private final MemorySegment context;
    private final MemorySegment queue;
    private final MemorySegment program;
    private final Map<Kernel, MemorySegment> kernels = new EnumMap<>(Kernel.class);
    private final Arena arena = Arena.ofShared();
    private final MemorySegment arg = arena.allocate(JAVA_LONG);
    private final MemorySegment global = arena.allocate(JAVA_LONG, 2);
    private final MemorySegment local = arena.allocate(JAVA_LONG, 2);
    private MemorySegment staging = MemorySegment.NULL;
    private Arena stagingArena;

    OpenClLauncher(OpenCl cl, OpenCl.Device device) {
        this.cl = cl;
        this.description = device.name() + " (" + device.platformName() + ", OpenCL)";
        this.context = cl.createContext(device.device());
        this.queue = cl.createQueue(context, device.device());
        // no -cl-fast-relaxed-math / -cl-mad-enable: IEEE semantics like the CUDA build (no --use_fast_math)
        this.program = cl.buildProgram(context, device.device(), KernelSource.openClProgram(), "-cl-std=CL1.2");
    }

    @Override
    public String device() {
        return description;
    }

    private MemorySegment staging(long bytes) {
        if (staging.byteSize() < bytes) {
            if (stagingArena != null) {
                stagingArena.close();
            }
            stagingArena = Arena.ofShared();
            staging = stagingArena.allocate(Math.max(bytes, 1 << 16), 64);
        }
        return staging.asSlice(0, bytes);
    }

    private static MemorySegment mem(long handle) {
        return MemorySegment.ofAddress(handle);
    }

    @Override
    protected long rawAllocate(long bytes) {
        return cl.createBuffer(context, bytes).address();
    }

    @Override
    protected void rawFree(long handle) {
        cl.releaseBuffer(mem(handle));
    }

    @Override
    protected void rawWrite(MemorySegment src, long dst, long dstOffset) {
        if (src.isNative()) {
            cl.write(queue, mem(dst), dstOffset, src);
        } else {
            MemorySegment s = staging(src.byteSize());
            MemorySegment.copy(src, 0, s, 0, src.byteSize());
            cl.write(queue, mem(dst), dstOffset, s);
        }
    }

    @Override
    protected void rawRead(long src, long srcOffset, MemorySegment dst) {
        if (dst.isNative()) {
            cl.read(queue, mem(src), srcOffset, dst);
        } else {
            MemorySegment s = staging(dst.byteSize());
            cl.read(queue, mem(src), srcOffset, s);
            MemorySegment.copy(s, 0, dst, 0, dst.byteSize());
        }
    }

    @Override
    protected void rawCopy(long src, long srcOffset, long dst, long dstOffset, long bytes) {
        cl.copy(queue, mem(src), mem(dst), srcOffset, dstOffset, bytes);
    }

    @Override
    protected void rawFill32(long handle, int pattern, long words) {
        cl.fill32(queue, mem(handle), pattern, words * 4);
    }

    @Override
    protected void rawLaunch(Kernel kernel, Launch g, String signature, long[] values) {
        MemorySegment k = kernels.computeIfAbsent(kernel, kk -> cl.createKernel(program, kk.symbol()));
        for (int i = 0; i < values.length; i++) {
            switch (signature.charAt(i)) {
                case 'P' -> {
                    arg.set(ADDRESS, 0, mem(values[i]));
                    cl.setArg(k, i, arg.asSlice(0, ADDRESS.byteSize()));
                }
                case 'I', 'F' -> {
                    arg.set(JAVA_INT, 0, (int) values[i]);
                    cl.setArg(k, i, arg.asSlice(0, 4));
                }
                default -> {
                    arg.set(JAVA_LONG, 0, values[i]);
                    cl.setArg(k, i, arg.asSlice(0, 8));
                }
            }
        }
        global.setAtIndex(JAVA_LONG, 0, (long) g.gridX() * g.block());
        global.setAtIndex(JAVA_LONG, 1, g.gridY());
        local.setAtIndex(JAVA_LONG, 0, g.block());
        local.setAtIndex(JAVA_LONG, 1, 1);
        cl.enqueue(queue, k, global, local, kernel.symbol());
    }

    @Override
    protected void rawSynchronize() {
        cl.finish(queue);
    }

    @Override
    protected void rawClose() {
        cl.finish(queue);
        for (MemorySegment k : kernels.values()) {
            cl.releaseKernel(k);
        }
        cl.releaseProgram(program);
        cl.releaseQueue(queue);
        cl.releaseContext(context);
        arena.close();
        if (stagingArena != null) {
            stagingArena.close();
        }
    }

    static {
        if (ADDRESS.byteSize() != 8) {
            throw new IllegalStateException("64-bit platforms only");
        }
        if (JAVA_INT.byteSize() != 4) {
            throw new IllegalStateException();
        }
    }
}
