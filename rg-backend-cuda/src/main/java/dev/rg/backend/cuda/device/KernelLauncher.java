package dev.rg.backend.cuda.device;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * What a device backend needs from a GPU API: memory, copies and kernel launches on one in-order queue. The CUDA
 * driver ({@code CudaLauncher}) and, in the tests, OpenCL ({@code OpenClLauncher}) implement the raw operations;
 * this class does the checks for both, so that no out-of-range copy, foreign or freed buffer, or launch whose
 * arguments do not match the kernel's signature or whose buffers are smaller than the kernel will touch ever
 * reaches the driver. All operations are serialised on the launcher.
 */
public abstract class KernelLauncher implements AutoCloseable {
    private final Set<DeviceBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;
    /** Kernel launches enqueued so far (a decode step's count is what CUDA graphs and fused kernels reduce). */
    private long launches;

    /** The device, in words (e.g. "NVIDIA H100 80GB HBM3, sm_90"). */
    public abstract String device();

    /** Allocates {@code bytes} (&gt; 0) of device memory; contents undefined. */
    public final synchronized DeviceBuffer allocate(long bytes) {
        checkOpen();
        if (bytes <= 0) {
            throw new IllegalArgumentException("device allocation of " + bytes + " bytes");
        }
        DeviceBuffer b = new DeviceBuffer(this, rawAllocate(bytes), bytes);
        live.add(b);
        return b;
    }

    /** Frees a buffer (idempotent). */
    public final synchronized void free(DeviceBuffer b) {
        if (b.isFreed() || closed) {
            return;
        }
        own(b, "free");
        long h = b.handle();
        b.markFreed();
        live.remove(b);
        rawFree(h);
    }

    /** Copies all of {@code src} (host memory) to {@code dst} at {@code dstOffset}. */
    public final synchronized void write(MemorySegment src, DeviceBuffer dst, long dstOffset) {
        checkOpen();
        own(dst, "host-to-device copy");
        dst.checkRange(dstOffset, src.byteSize(), "host-to-device copy");
        if (src.byteSize() > 0) {
            rawWrite(src, dst.handle(), dstOffset);
        }
    }

    /** Copies {@code dst.byteSize()} bytes of {@code src} from {@code srcOffset} to host memory; waits for the queue. */
    public final synchronized void read(DeviceBuffer src, long srcOffset, MemorySegment dst) {
        checkOpen();
        own(src, "device-to-host copy");
        src.checkRange(srcOffset, dst.byteSize(), "device-to-host copy");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("device-to-host copy into a read-only segment");
        }
        if (dst.byteSize() > 0) {
            rawRead(src.handle(), srcOffset, dst);
        }
    }

    /** Copies {@code bytes} between device buffers (overlapping ranges of one buffer are handled). */
    public final synchronized void copy(DeviceBuffer src, long srcOffset, DeviceBuffer dst, long dstOffset, long bytes) {
        checkOpen();
        own(src, "device-to-device copy");
        own(dst, "device-to-device copy");
        src.checkRange(srcOffset, bytes, "device-to-device copy source");
        dst.checkRange(dstOffset, bytes, "device-to-device copy destination");
        if (bytes == 0 || (src == dst && srcOffset == dstOffset)) {
            return;
        }
        if (src == dst && srcOffset < dstOffset + bytes && dstOffset < srcOffset + bytes) {
            DeviceBuffer tmp = allocate(bytes);
            try {
                rawCopy(src.handle(), srcOffset, tmp.handle(), 0, bytes);
                rawCopy(tmp.handle(), 0, dst.handle(), dstOffset, bytes);
            } finally {
                free(tmp);
            }
            return;
        }
        rawCopy(src.handle(), srcOffset, dst.handle(), dstOffset, bytes);
    }

    /** Sets every 32-bit word of {@code b} to {@code pattern} (its size must be a multiple of 4). */
    public final synchronized void fill32(DeviceBuffer b, int pattern) {
        checkOpen();
        own(b, "fill");
        if (b.bytes() % 4 != 0) {
            throw new IllegalArgumentException("fill32 of a buffer of " + b.bytes() + " bytes");
        }
        rawFill32(b.handle(), pattern, b.bytes() / 4);
    }

    /**
     * Enqueues {@code kernel} with {@code args}: a {@link Span} for each pointer parameter, an {@link Integer},
     * {@link Long} or {@link Float} for each scalar, in the order of {@link Kernel#signature()}.
     */
    public final synchronized void launch(Kernel kernel, Launch geometry, Object... args) {
        checkOpen();
        String sig = kernel.signature();
        if (args.length != sig.length()) {
            throw new IllegalArgumentException(kernel.symbol() + " takes " + sig.length() + " arguments (" + sig + "), got "
                    + args.length);
        }
        long[] values = new long[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            char kind = sig.charAt(i);
            values[i] = switch (kind) {
                case 'P' -> {
                    if (!(a instanceof Span s)) {
                        throw badArg(kernel, i, "a device buffer span", a);
                    }
                    own(s.buffer(), kernel.symbol() + " argument " + i);
                    if (s.bytes() > s.buffer().bytes()) {
                        throw new IndexOutOfBoundsException(kernel.symbol() + " argument " + i + " would touch " + s.bytes()
                                + " bytes of a device buffer of " + s.buffer().bytes());
                    }
                    yield s.buffer().handle();
                }
                case 'I' -> {
                    if (!(a instanceof Integer v)) {
                        throw badArg(kernel, i, "an int", a);
                    }
                    yield v;
                }
                case 'L' -> {
                    if (!(a instanceof Long v)) {
                        throw badArg(kernel, i, "a long", a);
                    }
                    yield v;
                }
                case 'F' -> {
                    if (!(a instanceof Float v)) {
                        throw badArg(kernel, i, "a float", a);
                    }
                    yield Float.floatToRawIntBits(v);
                }
                default -> throw new IllegalStateException("bad signature " + sig);
            };
        }
        rawLaunch(kernel, geometry, sig, values);
        launches++;
    }

    /**
     * Kernel launches enqueued through this launcher since it was created (copies and fills not included): the
     * difference over a decode step is that step's launch count, which {@code DecodeLaunchCountTest} pins down.
     */
    public final synchronized long launches() {
        return launches;
    }

    private static IllegalArgumentException badArg(Kernel k, int i, String expected, Object got) {
        return new IllegalArgumentException(k.symbol() + " argument " + i + " must be " + expected + " but is "
                + (got == null ? "null" : got.getClass().getSimpleName() + " " + got));
    }

    /** Waits until everything enqueued has finished. */
    public final synchronized void synchronize() {
        checkOpen();
        rawSynchronize();
    }

    /** Bytes currently allocated through this launcher. */
    public final synchronized long allocatedBytes() {
        long n = 0;
        for (DeviceBuffer b : live) {
            n += b.bytes();
        }
        return n;
    }

    public final synchronized boolean isClosed() {
        return closed;
    }

    /** Frees every buffer still allocated and releases the device. Idempotent. */
    @Override
    public final synchronized void close() {
        if (closed) {
            return;
        }
        List<DeviceBuffer> all = new ArrayList<>(live);
        RuntimeException first = null;
        for (DeviceBuffer b : all) {
            try {
                free(b);
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        closed = true;
        try {
            rawClose();
        } catch (RuntimeException e) {
            first = first == null ? e : first;
        }
        if (first != null) {
            throw first;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the device backend (" + device() + ") is closed");
        }
    }

    private void own(DeviceBuffer b, String what) {
        if (b.owner() != this) {
            throw new IllegalArgumentException(what + ": a buffer of another device backend");
        }
        b.handle(); // fails if freed
    }

    protected abstract long rawAllocate(long bytes);

    protected abstract void rawFree(long handle);

    protected abstract void rawWrite(MemorySegment src, long dst, long dstOffset);

    protected abstract void rawRead(long src, long srcOffset, MemorySegment dst);

    protected abstract void rawCopy(long src, long srcOffset, long dst, long dstOffset, long bytes);

    protected abstract void rawFill32(long handle, int pattern, long words);

    /** {@code values[i]}: a handle for 'P', the int/float bits for 'I'/'F', the long for 'L'. */
    protected abstract void rawLaunch(Kernel kernel, Launch geometry, String signature, long[] values);

    protected abstract void rawSynchronize();

    protected abstract void rawClose();
}
