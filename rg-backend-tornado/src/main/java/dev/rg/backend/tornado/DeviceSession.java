package dev.rg.backend.tornado;

import dev.rg.api.tensor.HostWeight;
import dev.rg.backend.tornado.kernels.RgKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The device side of a tornado backend, tying together its parts:
 *
 * <ul>
 *   <li>the <em>arena</em> ({@link #arena} with its {@link ArenaAllocator}), one float buffer holding every
 *       activation and state tensor (a tensor is an offset), kept on the device: only {@link #upload}/{@link
 *       #download} move tensor data, and a download is a partial transfer of just the tensor's range;</li>
 *   <li>the weight buffers ({@link WeightStore});</li>
 *   <li>the {@link KernelPlan} over those buffers, rebuilt when they change shape or when launch sequences became
 *       worth compiling as fused graphs;</li>
 *   <li>the {@link Launcher}, which executes or records kernel launches.</li>
 * </ul>
 *
 * Not thread-safe: callers synchronise on the session.
 */
final class DeviceSession implements AutoCloseable, WeightStore.Stager {
    private final TornadoDevice device;
    /** Floats of the arena that fit in one device allocation. */
    private final long arenaMax;
    private final String deviceName;
    private final FloatArray lut;
    private final WeightStore weights;
    private final Launcher launcher;

    private FloatArray arena;
    private final ArenaAllocator alloc;
    private KernelPlan plan;
    private boolean rebuild = true;
    private int builds;
    /** Whether the kernels laid out for a CPU device are used (see {@link TornadoKernels}). */
    private final boolean cpuKernels;

    DeviceSession(TornadoDevice device, int local, int arenaFloats, int weightSlack, long groupMax, boolean fuse,
            boolean cpuKernels) {
        this.device = device;
        this.cpuKernels = cpuKernels;
        // TornadoVM refuses buffers of CL_DEVICE_MAX_MEM_ALLOC_SIZE and more (1/4 of the memory on NVIDIA, 4 GiB on PoCL)
        long maxAlloc = device.getPhysicalDevice().getDeviceMaxAllocationSize() - 4096;
        long[] typeMax = new long[3];
        for (int t = 0; t < 3; t++) {
            typeMax[t] = Math.min(groupMax, maxAlloc / WeightStore.size(t));
        }
        this.arenaMax = Math.min(Integer.MAX_VALUE - 64L, maxAlloc / 4);
        this.deviceName = device.getPhysicalDevice().getDeviceName();
        int initial = (int) Math.min(arenaFloats, arenaMax);
        this.arena = new FloatArray(initial);
        this.alloc = new ArenaAllocator(initial);
        this.lut = FloatArray.fromArray(WeightEncoding.lut());
        this.weights = new WeightStore(typeMax, arenaMax, weightSlack, this);
        this.launcher = new Launcher(local, fuse);
        launcher.onRebuildNeeded(this::requestRebuild);
    }

    int local() {
        return launcher.local();
    }

    boolean cpuKernels() {
        return cpuKernels;
    }

    String deviceName() {
        return deviceName;
    }

    int builds() {
        return builds;
    }

    Launcher launcher() {
        return launcher;
    }

    /** The current plan's graphs (built first if needed). */
    KernelPlan graphs() {
        ensureBuilt();
        return plan;
    }

    // ------------------------------------------------------------------ arena

    /** A zeroed range of {@code n} floats; grows the arena (rebuilding the plan) when full. */
    int allocate(long n) {
        if (n == 0) {
            return 0;
        }
        int off = reserve(n);
        if (plan == null) {
            arena.getSegment().asSlice(off * 4L, n * 4L).fill((byte) 0);
        } else {
            fill(off, n, 0.0f);
        }
        return off;
    }

    /**
     * A range of {@code n} floats with undefined contents (scratch). May rebuild the plan: fetch graphs and fill
     * their parameters only after reserving scratch space.
     */
    int scratch(long n) {
        return n == 0 ? 0 : reserve(n);
    }

    private int reserve(long n) {
        int off = alloc.allocate(n);
        if (off < 0) {
            long need = (long) alloc.highWater() + ArenaAllocator.aligned(n);
            long want = Math.max(2L * alloc.capacity(), need + 1024);
            int newCap = (int) Math.min(want, arenaMax);
            if (newCap < need) {
                throw new IllegalStateException("the tornado device arena cannot hold " + n + " more floats: it would need "
                        + need + " floats, above the device's largest allocation (" + arenaMax + " floats)");
            }
            growArena(newCap);
            off = alloc.allocate(n);
        }
        return off;
    }

    void free(int offset, long n) {
        if (n > 0) {
            alloc.free(offset, n);
        }
    }

    private void growArena(int newCap) {
        if (plan != null) {
            syncArenaToHost();
        }
        FloatArray bigger = new FloatArray(newCap);
        MemorySegment.copy(arena.getSegment(), 0, bigger.getSegment(), 0, (long) arena.getSize() * 4);
        arena = bigger;
        alloc.grow(newCap);
        rebuild = true;
        if (plan != null) {
            closePlan();
            ensureBuilt();
        }
    }

    private void syncArenaToHost() {
        launcher.flush();
        // as an explicit range: TornadoVM 5.2 skips a whole-object transferToHost of an object that an earlier
        // partial (DataRange) transfer has touched, and the rebuilt plan then uploaded a stale arena (state lost)
        launcher.last().transferToHost(new DataRange(arena).withOffset(0).withSize(arena.getSize()));
    }

    void upload(float[] src, int offset) {
        if (src.length == 0) {
            return;
        }
        if (plan == null) {
            MemorySegment.copy(src, 0, arena.getSegment(), ValueLayout.JAVA_FLOAT, offset * 4L, src.length);
            return;
        }
        launcher.flush();
        OpGraph g = src.length <= KernelPlan.STAGE_SMALL ? plan.upSmall : plan.upLarge;
        FloatArray stage = src.length <= KernelPlan.STAGE_SMALL ? plan.stageSmall : plan.stageLarge;
        int chunk = stage.getSize();
        for (int done = 0; done < src.length; done += chunk) {
            int n = Math.min(chunk, src.length - done);
            MemorySegment.copy(src, done, stage.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
            g.p.set(0, offset + done);
            g.p.set(1, n);
            launcher.run(g, n);
        }
    }

    void download(int offset, float[] dst, int n) {
        if (n == 0) {
            return;
        }
        if (plan != null) {
            launcher.flush();
            launcher.last().transferToHost(new DataRange(arena).withOffset(offset).withSize(n));
        }
        MemorySegment.copy(arena.getSegment(), ValueLayout.JAVA_FLOAT, offset * 4L, dst, 0, n);
        launcher.stepBoundary();
    }

    void fill(int offset, long n, float value) {
        OpGraph ew = graphs().ew;
        ew.p.set(0, RgKernels.EW_FILL);
        ew.p.set(1, Math.toIntExact(n));
        ew.p.set(2, offset);
        ew.p.set(3, offset);
        ew.p.set(4, offset);
        ew.f.set(0, value);
        launcher.run(ew, n);
    }

    // ------------------------------------------------------------------ weights

    /** Copies a weight to the device buffers (now, or when the plan is next built). */
    DeviceWeight load(HostWeight w) {
        launcher.flush();
        return weights.load(w);
    }

    @Override
    public boolean live() {
        return plan != null;
    }

    @Override
    public void requestRebuild() {
        rebuild = true;
    }

    /** Uploads a range already written to a host weight buffer through the staging graph of its group. */
    @Override
    public void stage(WeightStore.Group g, int type, boolean toSf, long off, long count) {
        OpGraph graph = plan.weightsIn.get(g.index);
        MemorySegment host = weights.host(g, type, toSf);
        MemorySegment stage = type == WeightStore.T_F ? plan.wStageF.getSegment()
                : type == WeightStore.T_S ? plan.wStageS.getSegment() : plan.wStageB.getSegment();
        int unit = WeightStore.size(type);
        for (long done = 0; done < count; done += KernelPlan.WEIGHT_STAGE) {
            int n = (int) Math.min(KernelPlan.WEIGHT_STAGE, count - done);
            MemorySegment.copy(host, (off + done) * unit, stage, 0, (long) n * unit);
            for (int i = 0; i < 8; i++) {
                graph.p.set(i, 0);
            }
            int slot = toSf ? 0 : type == WeightStore.T_F ? 2 : type == WeightStore.T_S ? 4 : 6;
            graph.p.set(slot, n);
            graph.p.set(slot + 1, (int) (off + done));
            launcher.run(graph, n);
        }
    }

    // ------------------------------------------------------------------ plan

    /** Builds (or rebuilds) the plan when buffers changed; every kernel launch calls this first. */
    void ensureBuilt() {
        if (!rebuild && plan != null) {
            return;
        }
        if (plan != null) {
            syncArenaToHost();
            closePlan();
        }
        weights.reallocate();
        List<List<String>> sequences = launcher.wantedSequences();
        plan = new KernelPlan(device, arena, weights, lut, sequences);
        launcher.use(plan);
        rebuild = false;
        builds++;
    }

    private void closePlan() {
        KernelPlan p = plan;
        plan = null;
        launcher.use(null);
        if (p != null) {
            p.close();
        }
    }

    /** Ends a sampling step (argmax, topK): counts it and lets wanted fused graphs be compiled before the next. */
    void markStep() {
        launcher.markStep();
    }

    String stats() {
        return launcher.stats(builds);
    }

    @Override
    public void close() {
        if (Boolean.getBoolean("rg.tornado.stats")) {
            System.err.println(stats());
        }
        closePlan();
        arena = null;
        weights.clear();
    }
}
