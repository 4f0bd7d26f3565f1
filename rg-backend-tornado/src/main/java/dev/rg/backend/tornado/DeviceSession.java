package dev.rg.backend.tornado;

import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.tensor.HostWeight;
import dev.rg.backend.tornado.WeightEncoding.Kind;
import dev.rg.backend.tornado.kernels.RgKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The device side of a tornado backend: one {@link TornadoExecutionPlan} holding one task graph per kernel, all
 * sharing the same device buffers through TornadoVM's persisted/consumed objects:
 *
 * <ul>
 *   <li>the <em>arena</em>, a float buffer holding every activation and state tensor (a tensor is an offset), kept
 *       on the device: only {@link #upload}/{@link #download} move tensor data, and a download is a partial
 *       UNDER_DEMAND transfer of just the tensor's range;</li>
 *   <li>the weight buffers ({@code sf}: float32 copies of small dense weights; per group of at most 2^30 elements
 *       each, {@code wf}/{@code ws}/{@code wb}: float, 16-bit and 8-bit storage), transferred once
 *       ({@code FIRST_EXECUTION}) when the plan is built;</li>
 *   <li>per kernel graph, a small parameter array copied with every launch.</li>
 * </ul>
 *
 * The init graphs upload the buffers and persist them; every kernel graph consumes and persists them all, so
 * whichever graph ran last hands the device buffers to the next one. Weights loaded after the plan exists go
 * into spare capacity through a staging graph; when the arena or a weight buffer must grow, the plan is rebuilt
 * (the arena is first copied back to the host). Not thread-safe: callers synchronise on the session.
 */
final class DeviceSession implements AutoCloseable {
    /** Dense weights up to this many elements also get a float32 copy in {@code sf} (for the small ops). */
    static final long SMALL_MAX = 1L << 22;
    /** Elements per weight buffer of a group. */
    static final long GROUP_MAX = 1L << 30;
    static final int STAGE_SMALL = 4096;
    static final int STAGE_LARGE = 1 << 20;
    static final int WEIGHT_STAGE = 1 << 18;
    /** Capacity of the argmax/topK result buffers. */
    static final int RESULTS = 1 << 16;
    /** Default spare capacity of each weight buffer, in elements, for weights loaded after the plan is built. */
    static final int WEIGHT_SLACK = 1 << 20;

    static final int T_F = 0;
    static final int T_S = 1;
    static final int T_B = 2;

    /** A kernel graph: its index in the plan, parameter arrays and one worker grid per task. */
    static final class Graph {
        final String name;
        final int index;
        final IntArray p = new IntArray(RgKernels.P_SIZE);
        final FloatArray f = new FloatArray(RgKernels.F_SIZE);
        final WorkerGrid1D[] grids;
        final KernelContext ctx = new KernelContext();

        Graph(String name, int index, int tasks) {
            this.name = name;
            this.index = index;
            this.grids = new WorkerGrid1D[tasks];
            for (int i = 0; i < tasks; i++) {
                grids[i] = new WorkerGrid1D(1);
            }
        }
    }

    /** One group of weight buffers. */
    private final class Group {
        final int index;
        final long[] used = new long[3];
        final int[] cap = new int[3];
        FloatArray f;
        ShortArray s;
        ByteArray b;
        boolean realloc = true;
        final List<Pending> pending = new ArrayList<>();

        Group(int index) {
            this.index = index;
        }
    }

    /** A write into a weight buffer that waits for the buffer to be (re)allocated. */
    private record Pending(int type, long offset, MemorySegment src, long count) {}

    private final TornadoDevice device;
    private final int local;
    private final int slack;
    /** Elements of each weight buffer type (float, 16-bit, byte) that fit in one device allocation. */
    private final long[] typeMax = new long[3];
    /** Floats of the arena that fit in one device allocation. */
    private final long arenaMax;
    private final String deviceName;

    private FloatArray arena;
    private final ArenaAllocator alloc;
    private FloatArray sf;
    private long sfUsed;
    private int sfCap;
    private final List<Pending> sfPending = new ArrayList<>();
    private final FloatArray lut;
    private final List<Group> groups = new ArrayList<>();

    private TornadoExecutionPlan plan;
    private TornadoExecutionResult last;
    private boolean rebuild = true;
    private int builds;
    private long launches;
    private long launchesAtStep;
    private long lastStepLaunches;
    private long steps;

    // graphs of the current plan
    Graph upSmall;
    Graph upLarge;
    Graph rms;
    Graph ew;
    Graph conv;
    Graph lru;
    Graph rope;
    Graph attn;
    Graph argmax;
    Graph topK;
    private final List<Graph> matmul = new ArrayList<>();
    private final List<Graph> embed = new ArrayList<>();
    private final List<Graph> weightsIn = new ArrayList<>();
    private FloatArray stageSmall;
    private FloatArray stageLarge;
    private FloatArray wStageF;
    private ShortArray wStageS;
    private ByteArray wStageB;
    IntArray resultIds;
    FloatArray resultValues;

    DeviceSession(TornadoDevice device, int local, int arenaFloats, int weightSlack, long groupMax) {
        this.device = device;
        this.local = local;
        this.slack = weightSlack;
        // TornadoVM refuses buffers of CL_DEVICE_MAX_MEM_ALLOC_SIZE and more (1/4 of the memory on NVIDIA, 4 GiB on PoCL)
        long maxAlloc = device.getPhysicalDevice().getDeviceMaxAllocationSize() - 4096;
        for (int t = 0; t < 3; t++) {
            typeMax[t] = Math.min(groupMax, maxAlloc / size(t));
        }
        this.arenaMax = Math.min(Integer.MAX_VALUE - 64L, maxAlloc / 4);
        this.deviceName = device.getPhysicalDevice().getDeviceName();
        int initial = (int) Math.min(arenaFloats, arenaMax);
        this.arena = new FloatArray(initial);
        this.alloc = new ArenaAllocator(initial);
        this.lut = FloatArray.fromArray(WeightEncoding.lut());
        this.sfCap = 0;
        groups.add(new Group(0));
    }

    int local() {
        return local;
    }

    String deviceName() {
        return deviceName;
    }

    int builds() {
        return builds;
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
        if (plan != null) {
            closePlan();
            rebuild = true;
            ensureBuilt();
        } else {
            rebuild = true;
        }
    }

    private void syncArenaToHost() {
        last.transferToHost(arena);
    }

    void upload(float[] src, int offset) {
        if (src.length == 0) {
            return;
        }
        if (plan == null) {
            MemorySegment.copy(src, 0, arena.getSegment(), ValueLayout.JAVA_FLOAT, offset * 4L, src.length);
            return;
        }
        Graph g = src.length <= STAGE_SMALL ? upSmall : upLarge;
        FloatArray stage = src.length <= STAGE_SMALL ? stageSmall : stageLarge;
        int chunk = stage.getSize();
        for (int done = 0; done < src.length; done += chunk) {
            int n = Math.min(chunk, src.length - done);
            MemorySegment.copy(src, done, stage.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
            g.p.set(0, offset + done);
            g.p.set(1, n);
            run(g, n);
        }
    }

    void download(int offset, float[] dst, int n) {
        if (n == 0) {
            return;
        }
        if (plan != null) {
            last.transferToHost(new DataRange(arena).withOffset(offset).withSize(n));
        }
        MemorySegment.copy(arena.getSegment(), ValueLayout.JAVA_FLOAT, offset * 4L, dst, 0, n);
    }

    void fill(int offset, long n, float value) {
        ensureBuilt();
        ew.p.set(0, RgKernels.EW_FILL);
        ew.p.set(1, Math.toIntExact(n));
        ew.p.set(2, offset);
        ew.p.set(3, offset);
        ew.p.set(4, offset);
        ew.f.set(0, value);
        run(ew, n);
    }

    // ------------------------------------------------------------------ weights

    /** Copies a weight to the device buffers (now, or when the plan is next built). */
    DeviceWeight load(HostWeight w) {
        w.format().validate(w);
        Kind kind = WeightEncoding.kind(w.format());
        if (kind == null) {
            throw new IllegalArgumentException("the tornado backend has no kernel for weight format '" + w.format().name()
                    + "' (weight '" + w.name() + "'); native formats: " + new java.util.TreeSet<>(WeightEncoding.FORMATS));
        }
        long n = w.shape().elementCount();
        int rows = Math.toIntExact(w.shape().rows());
        int cols = Math.toIntExact(w.shape().lastDim());
        float[] absmax = kind == Kind.FOUR_BIT ? WeightEncoding.effectiveAbsmax(w) : null;
        if (kind != Kind.F32) {
            WeightEncoding.verify(w, kind, absmax);
        }
        boolean small = (kind == Kind.F32 || kind == Kind.DENSE16) && n <= SMALL_MAX;
        int sfOff = -1;
        if (small) {
            float[] values = new float[Math.toIntExact(n)];
            for (int r = 0; r < rows; r++) {
                w.format().dequantizeRow(w, r, values, r * cols);
            }
            sfOff = placeSf(values);
        }
        int fmt = WeightEncoding.code(w.format(), kind, small);
        MemorySegment data = w.part(dev.rg.api.format.WeightFormat.DATA);
        return switch (kind) {
            case F32 -> {
                if (small) {
                    yield new DeviceWeight(w, fmt, -1, sfOff, -1, sfOff);
                }
                Group g = place(n, 0, 0);
                long off = g.used[T_F] - n;
                write(g, T_F, off, data, n);
                yield new DeviceWeight(w, fmt, g.index, (int) off, -1, sfOff);
            }
            case DENSE16 -> {
                Group g = place(0, n, 0);
                long off = g.used[T_S] - n;
                write(g, T_S, off, data, n);
                yield new DeviceWeight(w, fmt, g.index, (int) off, -1, sfOff);
            }
            case INT8 -> {
                long scales = (long) rows * ((cols + RgKernels.INT8_BLOCK - 1) / RgKernels.INT8_BLOCK);
                Group g = place(0, scales, n);
                long off = g.used[T_B] - n;
                long sOff = g.used[T_S] - scales;
                write(g, T_B, off, data, n);
                write(g, T_S, sOff, w.part("scale"), scales);
                yield new DeviceWeight(w, fmt, g.index, (int) off, (int) sOff, -1);
            }
            case FOUR_BIT -> {
                long bytes = (n + 1) / 2;
                Group g = place(absmax.length, 0, bytes);
                long off = g.used[T_B] - bytes;
                long sOff = g.used[T_F] - absmax.length;
                write(g, T_B, off, data.asSlice(0, bytes), bytes);
                write(g, T_F, sOff, MemorySegment.ofArray(absmax), absmax.length);
                yield new DeviceWeight(w, fmt, g.index, (int) off, (int) sOff, -1);
            }
        };
    }

    private int placeSf(float[] values) {
        long off = sfUsed;
        if (off + values.length > arenaMax) {
            throw new IllegalStateException("too many small weights for the tornado backend's f32 buffer (limit "
                    + arenaMax + " floats on this device)");
        }
        sfUsed += values.length;
        MemorySegment src = MemorySegment.ofArray(values);
        if (sf != null && sfUsed <= sfCap) {
            MemorySegment.copy(src, 0, sf.getSegment(), off * 4, values.length * 4L);
            if (plan != null) {
                stageWeights(groups.get(0), T_F, true, off, values.length);
            }
        } else {
            sfPending.add(new Pending(T_F, off, src, values.length));
            rebuild = true;
        }
        return (int) off;
    }

    /** Reserves room for one weight in one group (a new group when the last is full). */
    private Group place(long nF, long nS, long nB) {
        long[] need = {nF, nS, nB};
        for (int t = 0; t < 3; t++) {
            if (need[t] > typeMax[t]) {
                throw new IllegalArgumentException("weight needs " + need[t] + " elements in one device buffer; the tornado "
                        + "backend's limit on this device is " + typeMax[t]);
            }
        }
        Group g = groups.getLast();
        for (int t = 0; t < 3; t++) {
            if (g.used[t] + need[t] > typeMax[t]) {
                g = new Group(groups.size());
                groups.add(g);
                rebuild = true;
                break;
            }
        }
        for (int t = 0; t < 3; t++) {
            g.used[t] += need[t];
        }
        return g;
    }

    private void write(Group g, int type, long off, MemorySegment src, long count) {
        if (count == 0) {
            return;
        }
        boolean fits = g.f != null && !g.realloc && off + count <= g.cap[type];
        if (fits) {
            MemorySegment.copy(src, 0, segment(g, type), off * size(type), count * size(type));
            if (plan != null) {
                stageWeights(g, type, false, off, count);
            }
        } else {
            g.pending.add(new Pending(type, off, src, count));
            g.realloc = true;
            rebuild = true;
        }
    }

    private static int size(int type) {
        return type == T_F ? 4 : type == T_S ? 2 : 1;
    }

    private MemorySegment segment(Group g, int type) {
        return type == T_F ? g.f.getSegment() : type == T_S ? g.s.getSegment() : g.b.getSegment();
    }

    /** Uploads a range already written to a host weight buffer through the staging graph of its group. */
    private void stageWeights(Group g, int type, boolean toSf, long off, long count) {
        Graph graph = weightsIn.get(g.index);
        MemorySegment host = toSf ? sf.getSegment() : segment(g, type);
        MemorySegment stage = type == T_F ? wStageF.getSegment() : type == T_S ? wStageS.getSegment() : wStageB.getSegment();
        int unit = size(type);
        for (long done = 0; done < count; done += WEIGHT_STAGE) {
            int n = (int) Math.min(WEIGHT_STAGE, count - done);
            MemorySegment.copy(host, (off + done) * unit, stage, 0, (long) n * unit);
            for (int i = 0; i < 8; i++) {
                graph.p.set(i, 0);
            }
            int slot = toSf ? 0 : type == T_F ? 2 : type == T_S ? 4 : 6;
            graph.p.set(slot, n);
            graph.p.set(slot + 1, (int) (off + done));
            run(graph, n);
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
        reallocateWeights();
        buildPlan();
        rebuild = false;
        builds++;
    }

    private void reallocateWeights() {
        if (sf == null || sfUsed > sfCap || !sfPending.isEmpty()) {
            int cap = (int) Math.min(arenaMax, Math.max(16, sfUsed + slack));
            FloatArray bigger = new FloatArray(cap);
            if (sf != null) {
                MemorySegment.copy(sf.getSegment(), 0, bigger.getSegment(), 0, Math.min(sfCap, sfUsed) * 4L);
            }
            for (Pending pd : sfPending) {
                MemorySegment.copy(pd.src(), 0, bigger.getSegment(), pd.offset() * 4, pd.count() * 4);
            }
            sfPending.clear();
            sf = bigger;
            sfCap = cap;
        }
        for (Group g : groups) {
            if (!g.realloc && g.f != null) {
                continue;
            }
            int[] cap = new int[3];
            for (int t = 0; t < 3; t++) {
                cap[t] = (int) Math.min(typeMax[t], Math.max(16, g.used[t] + slack));
            }
            FloatArray f = new FloatArray(cap[T_F]);
            ShortArray s = new ShortArray(cap[T_S]);
            ByteArray b = new ByteArray(cap[T_B]);
            if (g.f != null) {
                MemorySegment.copy(g.f.getSegment(), 0, f.getSegment(), 0, Math.min(g.cap[T_F], g.used[T_F]) * 4L);
                MemorySegment.copy(g.s.getSegment(), 0, s.getSegment(), 0, Math.min(g.cap[T_S], g.used[T_S]) * 2L);
                MemorySegment.copy(g.b.getSegment(), 0, b.getSegment(), 0, Math.min(g.cap[T_B], g.used[T_B]));
            }
            g.f = f;
            g.s = s;
            g.b = b;
            System.arraycopy(cap, 0, g.cap, 0, 3);
            for (Pending pd : g.pending) {
                if (!pd.src().scope().isAlive()) {
                    throw new IllegalStateException("a host weight was released before the tornado backend copied it to "
                            + "the device (keep host weights alive until the first kernel runs)");
                }
                MemorySegment.copy(pd.src(), 0, segment(g, pd.type()), pd.offset() * size(pd.type()),
                        pd.count() * size(pd.type()));
            }
            g.pending.clear();
            g.realloc = false;
        }
    }

    private Object[] shared(int groupCount) {
        List<Object> out = new ArrayList<>(List.of(arena, sf, lut));
        for (int i = 0; i < groupCount; i++) {
            Group g = groups.get(i);
            out.add(g.f);
            out.add(g.s);
            out.add(g.b);
        }
        return out.toArray();
    }

    private TaskGraph opGraph(Graph g, Object[] shared, Object... perLaunch) {
        return new TaskGraph(g.name).consumeFromDevice(shared).transferToDevice(DataTransferMode.EVERY_EXECUTION, perLaunch);
    }

    private void buildPlan() {
        List<ImmutableTaskGraph> graphs = new ArrayList<>();
        List<Graph> specs = new ArrayList<>();
        GridScheduler grid = new GridScheduler();
        int groupCount = groups.size();
        Object[] all = shared(groupCount);
        Object[] base = shared(0);

        Graph init = new Graph("rgInit", 0, 1);
        graphs.add(new TaskGraph(init.name)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, arena, sf, lut)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, init.p)
                .task("t", RgKernels::touchShared, init.ctx, arena, sf, lut, init.p)
                .persistOnDevice(base).snapshot());
        specs.add(init);
        for (int i = 0; i < groupCount; i++) {
            Group g = groups.get(i);
            Graph gi = new Graph("rgInitGroup" + i, specs.size(), 1);
            graphs.add(new TaskGraph(gi.name)
                    .consumeFromDevice(shared(i))
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, g.f, g.s, g.b)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, gi.p)
                    .task("t", RgKernels::touchGroup, gi.ctx, g.f, g.s, g.b, gi.p)
                    .persistOnDevice(shared(i + 1)).snapshot());
            specs.add(gi);
        }
        int inits = specs.size();

        stageSmall = new FloatArray(STAGE_SMALL);
        stageLarge = new FloatArray(STAGE_LARGE);
        wStageF = new FloatArray(WEIGHT_STAGE * 2);
        wStageS = new ShortArray(WEIGHT_STAGE);
        wStageB = new ByteArray(WEIGHT_STAGE);
        resultIds = new IntArray(RESULTS);
        resultValues = new FloatArray(RESULTS);

        upSmall = new Graph("rgUpSmall", specs.size(), 1);
        graphs.add(opGraph(upSmall, all, upSmall.p, stageSmall)
                .task("t", RgKernels::copyIn, upSmall.ctx, arena, stageSmall, upSmall.p).persistOnDevice(all).snapshot());
        specs.add(upSmall);
        upLarge = new Graph("rgUpLarge", specs.size(), 1);
        graphs.add(opGraph(upLarge, all, upLarge.p, stageLarge)
                .task("t", RgKernels::copyIn, upLarge.ctx, arena, stageLarge, upLarge.p).persistOnDevice(all).snapshot());
        specs.add(upLarge);

        rms = new Graph("rgRmsNorm", specs.size(), 1);
        graphs.add(opGraph(rms, all, rms.p, rms.f)
                .task("t", RgKernels::rmsNorm, rms.ctx, arena, sf, rms.p, rms.f).persistOnDevice(all).snapshot());
        specs.add(rms);
        ew = new Graph("rgElementwise", specs.size(), 1);
        graphs.add(opGraph(ew, all, ew.p, ew.f)
                .task("t", RgKernels::elementwise, ew.ctx, arena, ew.p, ew.f).persistOnDevice(all).snapshot());
        specs.add(ew);
        conv = new Graph("rgConv1d", specs.size(), 1);
        graphs.add(opGraph(conv, all, conv.p)
                .task("t", RgKernels::conv1d, conv.ctx, arena, sf, conv.p).persistOnDevice(all).snapshot());
        specs.add(conv);
        lru = new Graph("rgLru", specs.size(), 2);
        graphs.add(opGraph(lru, all, lru.p)
                .task("t", RgKernels::rgLruGates, lru.ctx, arena, sf, lru.p)
                .task("u", RgKernels::rgLruScan, lru.ctx, arena, lru.p).persistOnDevice(all).snapshot());
        specs.add(lru);
        rope = new Graph("rgRope", specs.size(), 1);
        graphs.add(opGraph(rope, all, rope.p, rope.f)
                .task("t", RgKernels::rope, rope.ctx, arena, rope.p, rope.f).persistOnDevice(all).snapshot());
        specs.add(rope);
        attn = new Graph("rgAttention", specs.size(), 2);
        graphs.add(opGraph(attn, all, attn.p, attn.f)
                .task("t", RgKernels::attention, attn.ctx, arena, attn.p, attn.f)
                .task("u", RgKernels::attentionCache, attn.ctx, arena, attn.p).persistOnDevice(all).snapshot());
        specs.add(attn);
        argmax = new Graph("rgArgmax", specs.size(), 1);
        graphs.add(opGraph(argmax, all, argmax.p)
                .task("t", RgKernels::argmax, argmax.ctx, arena, argmax.p, resultIds)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, resultIds).persistOnDevice(all).snapshot());
        specs.add(argmax);
        topK = new Graph("rgTopK", specs.size(), 1);
        graphs.add(opGraph(topK, all, topK.p)
                .task("t", RgKernels::topK, topK.ctx, arena, topK.p, resultIds, resultValues)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, resultIds, resultValues).persistOnDevice(all).snapshot());
        specs.add(topK);

        matmul.clear();
        embed.clear();
        weightsIn.clear();
        for (int i = 0; i < groupCount; i++) {
            Group g = groups.get(i);
            Graph mm = new Graph("rgMatmul" + i, specs.size(), 1);
            graphs.add(opGraph(mm, all, mm.p)
                    .task("t", RgKernels::matmul, mm.ctx, arena, sf, g.f, g.s, g.b, lut, mm.p).persistOnDevice(all).snapshot());
            specs.add(mm);
            matmul.add(mm);
            Graph em = new Graph("rgEmbed" + i, specs.size(), 1);
            graphs.add(opGraph(em, all, em.p, em.f)
                    .task("t", RgKernels::embed, em.ctx, arena, sf, g.f, g.s, g.b, lut, em.p, em.f).persistOnDevice(all)
                    .snapshot());
            specs.add(em);
            embed.add(em);
            Graph wi = new Graph("rgWeightsIn" + i, specs.size(), 1);
            graphs.add(opGraph(wi, all, wi.p, wStageF, wStageS, wStageB)
                    .task("t", RgKernels::weightsIn, wi.ctx, sf, g.f, g.s, g.b, wStageF, wStageS, wStageB, wi.p)
                    .persistOnDevice(all).snapshot());
            specs.add(wi);
            weightsIn.add(wi);
        }
        for (Graph s : specs) {
            String[] tasks = {"t", "u"};
            for (int t = 0; t < s.grids.length; t++) {
                grid.addWorkerGrid(s.name + "." + tasks[t], s.grids[t]);
            }
        }
        plan = new TornadoExecutionPlan(graphs.toArray(new ImmutableTaskGraph[0]));
        plan.withDevice(device);
        plan.withGridScheduler(grid);
        for (int i = 0; i < inits; i++) {
            Graph s = specs.get(i);
            s.grids[0].setGlobalWork(1, 1, 1);
            s.grids[0].setLocalWork(1, 1, 1);
            last = plan.withGraph(i).execute();
        }
    }

    Graph matmulGraph(int group) {
        return matmul.get(group);
    }

    Graph embedGraph(int group) {
        return embed.get(group);
    }

    /** Launches a graph whose tasks run {@code globals[i]} work-items each (rounded up to the local size). */
    void run(Graph g, long... globals) {
        for (int t = 0; t < g.grids.length; t++) {
            long n = Math.max(1, globals.length > t ? globals[t] : globals[0]);
            long rounded = (n + local - 1) / local * local;
            if (rounded > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("launch of " + n + " work-items is too large");
            }
            g.grids[t].setGlobalWork(rounded, 1, 1);
            g.grids[t].setLocalWork(local, 1, 1);
        }
        last = plan.withGraph(g.index).execute();
        launches++;
    }

    /** Task-graph executions so far (each costs a host round trip: parameter write, launch, wait). */
    long launches() {
        return launches;
    }

    /**
     * Marks the end of a decode step (an argmax or topK, which ends every sampled token): remembers how many graph
     * executions the step took, for {@link #lastStepLaunches()}.
     */
    void markStep() {
        lastStepLaunches = launches - launchesAtStep;
        launchesAtStep = launches;
        steps++;
    }

    /** Graph executions between the last two {@link #markStep()} calls (the launches of one decode step). */
    long lastStepLaunches() {
        return lastStepLaunches;
    }

    /** One line of counters, printed at close when {@code -Drg.tornado.stats=true}. */
    String stats() {
        return "tornado stats: " + launches + " graph executions, " + steps + " sampling steps, last step "
                + lastStepLaunches + " executions, " + builds + " plan builds";
    }

    /** Launches a graph with one work-group of {@link #local()} items per unit ({@code groups[i]} units per task). */
    void runGroups(Graph g, long groupsCount) {
        run(g, groupsCount * local);
    }

    private void closePlan() {
        TornadoExecutionPlan p = plan;
        plan = null;
        if (p != null) {
            try {
                p.withAllGraphs();
                p.close();
            } catch (Exception | Error e) {
                // freeing is best effort: the plan is discarded either way
            }
        }
    }

    /** Runs a tiny kernel and checks its result, so a kernel that TornadoVM did not compile fails loudly here. */
    void selfCheck() {
        ensureBuilt();
        int off = allocate(64);
        try {
            float[] in = new float[64];
            for (int i = 0; i < 64; i++) {
                in[i] = (i - 32) * 0.125f;
            }
            upload(in, off);
            ew.p.set(0, RgKernels.EW_GELU);
            ew.p.set(1, 64);
            ew.p.set(2, off);
            ew.p.set(3, off);
            ew.p.set(4, off);
            run(ew, 64);
            float[] out = new float[64];
            download(off, out, 64);
            for (int i = 0; i < 64; i++) {
                double x = in[i];
                double want = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
                if (!(Math.abs(out[i] - want) <= 1e-5 + 1e-4 * Math.abs(want))) {
                    throw new BackendUnavailableException("TornadoVM self-check failed on " + deviceName + ": gelu("
                            + x + ") gave " + out[i] + ", expected " + want + " (was -Dtornado.recover.bailout=false "
                            + "set? a kernel that does not compile otherwise silently runs as plain Java)");
                }
            }
        } finally {
            free(off, 64);
        }
    }

    @Override
    public void close() {
        if (Boolean.getBoolean("rg.tornado.stats")) {
            System.err.println(stats());
        }
        closePlan();
        arena = null;
        sf = null;
        groups.clear();
    }
}
