package dev.rg.backend.cuda.device;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
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
    /** Recorded graphs launched so far (each is one host round trip however many kernels it holds). */
    private long graphLaunches;
    /** Host-to-device copies so far (a pass's inputs: token ids, positions; each is a round trip of its own). */
    private long writes;
    /** Whether {@link #beginGroup} records (the backend option {@code graphs=on}); off: groups launch eagerly. */
    private boolean graphs;
    /** Inside a group: its launches, checked but not yet enqueued. Null outside a group. */
    private List<Recorded> pending;
    /** A non-launch operation met the group after some of its launches: those ran eagerly, the group is no graph. */
    private boolean broken;
    /** Launch lists seen once (a list becomes a graph the second time it is seen, so one-off lists cost nothing). */
    private final Map<List<Recorded>, Boolean> seenOnce = new HashMap<>();
    /** Recorded graphs by their exact launch list. */
    private final Map<List<Recorded>, Object> recorded = new HashMap<>();
    /** Most graphs kept (2B: 26 layers + the head per batch size); beyond it all are dropped and recorded anew. */
    static final int MAX_GRAPHS = 512;

    /**
     * One checked launch as it reaches the driver: kernel, geometry and raw argument values. Two equal lists launch
     * exactly the same work (same buffers, same scalars), which is what makes replaying a recorded graph for a list
     * equal to the list's eager launches, whatever changed in between: anything a step changes must reach the
     * kernels through device memory (token ids, positions) or it shows up here as a different list.
     */
    public record Recorded(Kernel kernel, Launch geometry, long[] values) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Recorded r && r.kernel == kernel && r.geometry.equals(geometry) && Arrays.equals(r.values, values);
        }

        @Override
        public int hashCode() {
            return (kernel.hashCode() * 31 + geometry.hashCode()) * 31 + Arrays.hashCode(values);
        }

        @Override
        public String toString() {
            return kernel.symbol() + geometry + Arrays.toString(values);
        }
    }

    /** The device, in words (e.g. "NVIDIA H100 80GB HBM3, sm_90"). */
    public abstract String device();

    /** Allocates {@code bytes} (&gt; 0) of device memory; contents undefined. */
    public final synchronized DeviceBuffer allocate(long bytes) {
        checkOpen();
        flushPending();
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
        flushPending();
        long h = b.handle();
        b.markFreed();
        live.remove(b);
        rawFree(h);
    }

    /** Copies all of {@code src} (host memory) to {@code dst} at {@code dstOffset}. */
    public final synchronized void write(MemorySegment src, DeviceBuffer dst, long dstOffset) {
        checkOpen();
        flushPending();
        own(dst, "host-to-device copy");
        dst.checkRange(dstOffset, src.byteSize(), "host-to-device copy");
        if (src.byteSize() > 0) {
            rawWrite(src, dst.handle(), dstOffset);
            writes++;
        }
    }

    /** Copies {@code dst.byteSize()} bytes of {@code src} from {@code srcOffset} to host memory; waits for the queue. */
    public final synchronized void read(DeviceBuffer src, long srcOffset, MemorySegment dst) {
        checkOpen();
        flushPending();
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
        flushPending();
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
        flushPending();
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
        if (pending != null) {
            pending.add(new Recorded(kernel, geometry, values));
            return;
        }
        rawLaunch(kernel, geometry, sig, values);
        launches++;
    }

    /**
     * Turns recording of groups on or off (the backend option {@code graphs}). Off, {@link #beginGroup} and
     * {@link #endGroup} change nothing: every launch is enqueued as it comes.
     */
    public final synchronized void useGraphs(boolean on) {
        checkOpen();
        if (!on) {
            dropGraphs();
        }
        graphs = on;
    }

    public final synchronized boolean graphs() {
        return graphs;
    }

    /**
     * Starts a group of launches that may recur (a layer of a decode step): until {@link #endGroup}, launches are
     * checked and held. Any other operation in between (a copy, an allocation, a download) first enqueues what is
     * held, and the group is then not recorded. Groups do not nest (an inner call is part of the outer group).
     */
    public final synchronized void beginGroup() {
        checkOpen();
        if (graphs && pending == null) {
            pending = new ArrayList<>();
            broken = false;
        }
    }

    /**
     * Ends the group: a launch list seen before is enqueued as one recorded graph (recorded the second time it is
     * seen, launched as is from the third); a new list or a broken group is enqueued launch by launch. If the driver
     * cannot record or launch a graph, graphs are turned off with one warning line and the launches run eagerly.
     */
    public final synchronized void endGroup() {
        if (pending == null) {
            return;
        }
        List<Recorded> list = pending;
        pending = null;
        if (broken || list.isEmpty()) {
            enqueue(list);
            return;
        }
        Object graph = recorded.get(list);
        if (graph == null && seenOnce.remove(list) != null) {
            if (recorded.size() >= MAX_GRAPHS) {
                dropGraphs();
            }
            try {
                graph = rawRecord(list);
            } catch (RuntimeException e) {
                disableGraphs("recording a graph of " + list.size() + " launches failed", e);
                enqueue(list);
                return;
            }
            recorded.put(List.copyOf(list), graph);
        }
        if (graph == null) {
            if (seenOnce.size() >= MAX_GRAPHS) {
                seenOnce.clear();
            }
            seenOnce.put(List.copyOf(list), Boolean.TRUE);
            enqueue(list);
            return;
        }
        try {
            rawLaunchGraph(graph);
        } catch (RuntimeException e) {
            disableGraphs("launching a recorded graph of " + list.size() + " launches failed", e);
            enqueue(list);
            return;
        }
        graphLaunches++;
    }

    /**
     * Ends a group whose ops failed: what it holds is enqueued as it would have been without groups, nothing is
     * recorded.
     */
    public final synchronized void abandonGroup() {
        if (pending != null) {
            List<Recorded> list = pending;
            pending = null;
            if (!closed) {
                enqueue(list);
            }
        }
    }

    /** Enqueues the held launches of a group one by one (an operation that is not a launch met the group). */
    private void flushPending() {
        if (pending != null && !pending.isEmpty()) {
            broken = true;
            List<Recorded> list = new ArrayList<>(pending);
            pending.clear();
            enqueue(list);
        }
    }

    private void enqueue(List<Recorded> list) {
        for (Recorded r : list) {
            rawLaunch(r.kernel(), r.geometry(), r.kernel().signature(), r.values());
            launches++;
        }
    }

    private void disableGraphs(String what, RuntimeException e) {
        System.err.println("warning: " + device() + ": " + what + " (" + e.getMessage() + "); running without graphs");
        graphs = false;
        dropGraphs();
    }

    private void dropGraphs() {
        RuntimeException first = null;
        for (Object g : recorded.values()) {
            try {
                rawDestroyGraph(g);
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        recorded.clear();
        seenOnce.clear();
        if (first != null) {
            throw first;
        }
    }

    /** Recorded graphs launched since this launcher was created (each one host round trip). */
    public final synchronized long graphLaunches() {
        return graphLaunches;
    }

    /** Graphs currently recorded. */
    public final synchronized int recordedGraphs() {
        return recorded.size();
    }

    /**
     * Host round trips that enqueued work so far: kernel launches plus graph launches (copies and fills not included).
     * A replayed decode step's difference is what {@code GraphReplayTest} pins down.
     */
    public final synchronized long submissions() {
        return launches + graphLaunches;
    }

    /**
     * Kernel launches enqueued through this launcher since it was created (copies and fills not included): the
     * difference over a decode step is that step's launch count, which {@code DecodeLaunchCountTest} pins down.
     */
    public final synchronized long launches() {
        return launches;
    }

    /** Host-to-device copies of a non-empty range made through {@link #write} since this launcher was created. */
    public final synchronized long writes() {
        return writes;
    }

    private static IllegalArgumentException badArg(Kernel k, int i, String expected, Object got) {
        return new IllegalArgumentException(k.symbol() + " argument " + i + " must be " + expected + " but is "
                + (got == null ? "null" : got.getClass().getSimpleName() + " " + got));
    }

    /** Waits until everything enqueued has finished. */
    public final synchronized void synchronize() {
        checkOpen();
        flushPending();
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
        RuntimeException first = null;
        try {
            flushPending();
            pending = null;
            dropGraphs();
        } catch (RuntimeException e) {
            first = e;
        }
        List<DeviceBuffer> all = new ArrayList<>(live);
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

    /**
     * Records {@code launches} (checked, equal to an earlier list) as one graph that {@link #rawLaunchGraph} enqueues.
     * This default keeps the list and replays it launch by launch, which is what a launcher without device graphs
     * (the OpenCL test double) does, so that the grouping, the matching of lists and the device-resident step inputs
     * are tested wherever the kernels run; the CUDA launcher records a CUDA graph instead.
     */
    protected Object rawRecord(List<Recorded> launches) {
        return List.copyOf(launches);
    }

    /** Enqueues a graph made by {@link #rawRecord}. */
    protected void rawLaunchGraph(Object graph) {
        @SuppressWarnings("unchecked")
        List<Recorded> list = (List<Recorded>) graph;
        for (Recorded r : list) {
            rawLaunch(r.kernel(), r.geometry(), r.kernel().signature(), r.values());
        }
    }

    /** Releases a graph made by {@link #rawRecord}. */
    protected void rawDestroyGraph(Object graph) {
    }

    protected abstract void rawClose();
}
