package dev.rg.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.rg.backend.cuda.device.Kernel;
import dev.rg.backend.cuda.device.KernelLauncher;
import dev.rg.backend.cuda.device.Launch;
import dev.rg.backend.cuda.driver.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * {@link KernelLauncher} over the CUDA driver: the device's primary context, one stream, the shipped PTX module.
 * Kernels run in order on the stream; the synchronous copies ({@code cuMemcpy*_v2} on the legacy default stream)
 * wait for the stream's earlier work because the stream is a blocking one, so a download always sees every
 * kernel launched before it.
 */
final class CudaLauncher extends KernelLauncher {
    private static final int MAX_PARAMS = 32;

    private final CudaDriver driver;
    private final int device;
    private final String description;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final MemorySegment module;
    private final Map<Kernel, MemorySegment> functions = new EnumMap<>(Kernel.class);
    private final Arena arena = Arena.ofShared();
    private final MemorySegment paramValues = arena.allocate(JAVA_LONG, MAX_PARAMS);
    private final MemorySegment paramPointers = arena.allocate(ADDRESS, MAX_PARAMS);
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    private MemorySegment staging = MemorySegment.NULL;
    private Arena stagingArena;
    private boolean contextRetained;

    CudaLauncher(CudaDriver driver, int device, String description, Ptx ptx) {
        this.driver = driver;
        this.device = device;
        this.description = description;
        MemorySegment ctx = null;
        MemorySegment str = null;
        try {
            ctx = driver.primaryContextRetain(device);
            contextRetained = true;
            driver.setCurrent(ctx);
            current.set(true);
            str = driver.createStream(0);
            MemorySegment image = arena.allocateFrom(ptx.text(), StandardCharsets.US_ASCII);
            this.module = driver.loadModule(image);
        } catch (RuntimeException e) {
            if (str != null) {
                driver.destroyStream(str);
            }
            if (contextRetained) {
                driver.primaryContextRelease(device);
            }
            arena.close();
            throw e;
        }
        this.context = ctx;
        this.stream = str;
        for (int i = 0; i < MAX_PARAMS; i++) {
            paramPointers.setAtIndex(ADDRESS, i, paramValues.asSlice(i * 8L, 8));
        }
    }

    @Override
    public String device() {
        return description;
    }

    /** The context must be current on the calling thread for every driver call (contexts are per thread). */
    private void makeCurrent() {
        if (!current.get()) {
            driver.setCurrent(context);
            current.set(true);
        }
    }

    private MemorySegment staging(long bytes) {
        if (staging.byteSize() < bytes) {
            if (stagingArena != null) {
                stagingArena.close();
            }
            stagingArena = Arena.ofShared();
            staging = stagingArena.allocate(Math.max(bytes, 1 << 20), 64);
        }
        return staging.asSlice(0, bytes);
    }

    @Override
    protected long rawAllocate(long bytes) {
        makeCurrent();
        return driver.allocate(bytes);
    }

    @Override
    protected void rawFree(long handle) {
        makeCurrent();
        driver.free(handle);
    }

    @Override
    protected void rawWrite(MemorySegment src, long dst, long dstOffset) {
        makeCurrent();
        if (src.isNative()) {
            driver.copyHtoD(dst + dstOffset, src);
            return;
        }
        // heap arrays: staged through native memory in pieces of at most 64 MiB
        long chunk = 64L << 20;
        for (long off = 0; off < src.byteSize(); off += chunk) {
            long n = Math.min(chunk, src.byteSize() - off);
            MemorySegment s = staging(n);
            MemorySegment.copy(src, off, s, 0, n);
            driver.copyHtoD(dst + dstOffset + off, s);
        }
    }

    @Override
    protected void rawRead(long src, long srcOffset, MemorySegment dst) {
        makeCurrent();
        if (dst.isNative()) {
            driver.copyDtoH(dst, src + srcOffset);
            return;
        }
        long chunk = 64L << 20;
        for (long off = 0; off < dst.byteSize(); off += chunk) {
            long n = Math.min(chunk, dst.byteSize() - off);
            MemorySegment s = staging(n);
            driver.copyDtoH(s, src + srcOffset + off);
            MemorySegment.copy(s, 0, dst, off, n);
        }
    }

    @Override
    protected void rawCopy(long src, long srcOffset, long dst, long dstOffset, long bytes) {
        makeCurrent();
        driver.copyDtoD(dst + dstOffset, src + srcOffset, bytes);
    }

    @Override
    protected void rawFill32(long handle, int pattern, long words) {
        makeCurrent();
        driver.memsetD32(handle, pattern, words);
    }

    @Override
    protected void rawLaunch(Kernel kernel, Launch g, String signature, long[] values) {
        makeCurrent();
        MemorySegment f = functions.computeIfAbsent(kernel, k -> driver.function(module, k.symbol()));
        if (values.length > MAX_PARAMS) {
            throw new IllegalArgumentException(kernel.symbol() + ": too many parameters");
        }
        for (int i = 0; i < values.length; i++) {
            switch (signature.charAt(i)) {
                case 'I', 'F' -> paramValues.set(java.lang.foreign.ValueLayout.JAVA_INT, i * 8L, (int) values[i]);
                default -> paramValues.set(JAVA_LONG, i * 8L, values[i]);
            }
        }
        driver.launch(f, g.gridX(), g.gridY(), g.block(), stream, paramPointers, kernel.symbol());
    }

    /**
     * A CUDA graph of {@code launches}: the stream is captured while they are launched into it (nothing runs), then
     * the graph is instantiated; only the executable graph is kept. A failed capture leaves the stream as it was.
     */
    @Override
    protected Object rawRecord(List<KernelLauncher.Recorded> launches) {
        makeCurrent();
        driver.beginCapture(stream);
        MemorySegment graph;
        try {
            for (KernelLauncher.Recorded r : launches) {
                rawLaunch(r.kernel(), r.geometry(), r.kernel().signature(), r.values());
            }
        } catch (RuntimeException e) {
            try {
                MemorySegment g = driver.endCapture(stream);
                if (!g.equals(MemorySegment.NULL)) {
                    driver.destroyGraph(g);
                }
            } catch (RuntimeException f) {
                e.addSuppressed(f);
            }
            throw e;
        }
        graph = driver.endCapture(stream);
        try {
            return driver.instantiate(graph);
        } finally {
            driver.destroyGraph(graph);
        }
    }

    @Override
    protected void rawLaunchGraph(Object graph) {
        makeCurrent();
        driver.launchGraph((MemorySegment) graph, stream);
    }

    @Override
    protected void rawDestroyGraph(Object graph) {
        makeCurrent();
        driver.destroyGraphExec((MemorySegment) graph);
    }

    @Override
    protected void rawSynchronize() {
        makeCurrent();
        driver.synchronize(stream);
    }

    /** Device time of {@code work}'s kernels, in milliseconds (CUDA events on the stream). */
    synchronized float time(Runnable work) {
        makeCurrent();
        MemorySegment start = driver.createEvent(0);
        MemorySegment end = driver.createEvent(0);
        try {
            driver.record(start, stream);
            work.run();
            makeCurrent();
            driver.record(end, stream);
            driver.synchronizeEvent(end);
            return driver.elapsedMillis(start, end);
        } finally {
            driver.destroyEvent(start);
            driver.destroyEvent(end);
        }
    }

    /** {free, total} device memory in bytes. */
    synchronized long[] memoryInfo() {
        makeCurrent();
        return driver.memoryInfo();
    }

    @Override
    protected void rawClose() {
        makeCurrent();
        try {
            driver.synchronize(stream);
            driver.unloadModule(module);
            driver.destroyStream(stream);
        } finally {
            driver.primaryContextRelease(device);
            arena.close();
            if (stagingArena != null) {
                stagingArena.close();
            }
        }
    }
}
