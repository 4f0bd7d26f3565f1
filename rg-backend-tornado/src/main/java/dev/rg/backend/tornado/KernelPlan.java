package dev.rg.backend.tornado;

import dev.rg.backend.tornado.kernels.RgKernels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * One {@link TornadoExecutionPlan} over the current device buffers: init graphs that upload the arena and the
 * weight buffers once ({@code FIRST_EXECUTION}) and {@code persistOnDevice} them, one graph per kernel (and per
 * weight group for matmul, embedding and weight staging) and one {@link FusedGraph} per recorded launch sequence.
 * Every graph {@code consumeFromDevice}s and persists all buffers, so whichever ran last hands them to the next.
 * Built whole and immutable: new buffers or new fused sequences mean a new plan.
 */
final class KernelPlan implements AutoCloseable {
    static final int STAGE_SMALL = 4096;
    static final int STAGE_LARGE = 1 << 20;
    static final int WEIGHT_STAGE = 1 << 18;
    /** Capacity of the argmax/topK result buffers. */
    static final int RESULTS = 1 << 16;

    final TornadoExecutionPlan plan;
    final TornadoExecutionResult initResult;
    final OpGraph upSmall;
    final OpGraph upLarge;
    final OpGraph rms;
    final OpGraph addRms;
    final OpGraph ew;
    final OpGraph conv;
    final OpGraph lru;
    /** The one-task RG-LRU of the CPU kernel set. */
    final OpGraph lruSeq;
    final OpGraph rope;
    final OpGraph attn;
    final OpGraph argmax;
    final OpGraph topK;
    final List<OpGraph> matmul = new ArrayList<>();
    /** Per weight group, the matmul of the CPU kernel set (one work-item per output row). */
    final List<OpGraph> matmulRows = new ArrayList<>();
    final List<OpGraph> embed = new ArrayList<>();
    final List<OpGraph> weightsIn = new ArrayList<>();
    /** Fused graphs by {@link #signature} of their op graph names. */
    final Map<String, FusedGraph> fused = new HashMap<>();
    final FloatArray stageSmall = new FloatArray(STAGE_SMALL);
    final FloatArray stageLarge = new FloatArray(STAGE_LARGE);
    final FloatArray wStageF = new FloatArray(WEIGHT_STAGE * 2);
    final ShortArray wStageS = new ShortArray(WEIGHT_STAGE);
    final ByteArray wStageB = new ByteArray(WEIGHT_STAGE);
    final IntArray resultIds = new IntArray(RESULTS);
    final FloatArray resultValues = new FloatArray(RESULTS);

    private final List<ImmutableTaskGraph> graphs = new ArrayList<>();
    private final List<OpGraph> specs = new ArrayList<>();
    private final Map<String, OpGraph> byName = new HashMap<>();

    /** The key of a launch sequence: its op graphs' names in order. */
    static String signature(List<String> opNames) {
        return String.join(",", opNames);
    }

    /**
     * Builds the plan and runs its init graphs (uploading every buffer).
     *
     * @param fusedSequences launch sequences (op graph names) to compile as fused graphs; names of op graphs this
     *                       plan does not have (a weight group that no longer exists) skip the sequence
     */
    KernelPlan(TornadoDevice device, FloatArray arena, WeightStore weights, FloatArray lut, List<List<String>> fusedSequences) {
        FloatArray sf = weights.sf();
        List<WeightStore.Group> groups = weights.groups();
        int groupCount = groups.size();
        Object[] all = shared(arena, sf, lut, groups, groupCount);
        Object[] base = shared(arena, sf, lut, groups, 0);

        List<KernelContext> initCtx = new ArrayList<>();
        List<IntArray> initP = new ArrayList<>();
        IntArray p0 = new IntArray(RgKernels.P_SIZE);
        KernelContext c0 = new KernelContext();
        graphs.add(new TaskGraph("rgInit")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, arena, sf, lut)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, p0)
                .task("t", RgKernels::touchShared, c0, arena, sf, lut, p0)
                .persistOnDevice(base).snapshot());
        initCtx.add(c0);
        initP.add(p0);
        List<String> initNames = new ArrayList<>(List.of("rgInit"));
        for (int i = 0; i < groupCount; i++) {
            WeightStore.Group g = groups.get(i);
            IntArray p = new IntArray(RgKernels.P_SIZE);
            KernelContext c = new KernelContext();
            String name = "rgInitGroup" + i;
            graphs.add(new TaskGraph(name)
                    .consumeFromDevice(shared(arena, sf, lut, groups, i))
                    .transferToDevice(DataTransferMode.FIRST_EXECUTION, g.f, g.s, g.b)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, p)
                    .task("t", RgKernels::touchGroup, c, g.f, g.s, g.b, p)
                    .persistOnDevice(shared(arena, sf, lut, groups, i + 1)).snapshot());
            initNames.add(name);
        }
        int inits = graphs.size();

        upSmall = op("rgUpSmall", all, 1, false, false, new Object[] {stageSmall},
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::copyIn, ctx, arena, stageSmall, p));
        upLarge = op("rgUpLarge", all, 1, false, false, new Object[] {stageLarge},
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::copyIn, ctx, arena, stageLarge, p));
        rms = op("rgRmsNorm", all, 1, true, true, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::rmsNorm, ctx, arena, sf, p, f));
        addRms = op("rgAddRmsNorm", all, 1, true, true, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::addRmsNorm, ctx, arena, sf, p, f));
        ew = op("rgElementwise", all, 1, true, true, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::elementwise, ctx, arena, p, f));
        conv = op("rgConv1d", all, 1, false, true, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::conv1d, ctx, arena, sf, p));
        lru = op("rgLru", all, 2, false, true, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::rgLruGates, ctx, arena, sf, p)
                        .task(n[1], RgKernels::rgLruScan, ctx, arena, p));
        lruSeq = op("rgLruSeq", all, 1, false, true, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::rgLruSeq, ctx, arena, sf, p));
        rope = op("rgRope", all, 1, true, true, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::rope, ctx, arena, p, f));
        attn = op("rgAttention", all, 2, true, true, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::attention, ctx, arena, p, f)
                        .task(n[1], RgKernels::attentionCache, ctx, arena, p));
        argmax = op("rgArgmax", all, 1, false, false, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::argmax, ctx, arena, p, resultIds)
                        .transferToHost(DataTransferMode.EVERY_EXECUTION, resultIds));
        topK = op("rgTopK", all, 1, false, false, null,
                (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::topK, ctx, arena, p, resultIds, resultValues)
                        .transferToHost(DataTransferMode.EVERY_EXECUTION, resultIds, resultValues));
        for (int i = 0; i < groupCount; i++) {
            WeightStore.Group g = groups.get(i);
            matmul.add(op("rgMatmul" + i, all, 1, false, true, null,
                    (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::matmul, ctx, arena, sf, g.f, g.s, g.b, lut, p)));
            matmulRows.add(op("rgMatmulRows" + i, all, 1, false, true, null,
                    (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::matmulRows, ctx, arena, sf, g.f, g.s, g.b, lut, p)));
            embed.add(op("rgEmbed" + i, all, 1, true, true, null,
                    (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::embed, ctx, arena, sf, g.f, g.s, g.b, lut, p, f)));
            weightsIn.add(op("rgWeightsIn" + i, all, 1, false, false, new Object[] {wStageF, wStageS, wStageB},
                    (tg, n, ctx, p, f) -> tg.task(n[0], RgKernels::weightsIn, ctx, sf, g.f, g.s, g.b, wStageF, wStageS,
                            wStageB, p)));
        }
        for (List<String> sequence : fusedSequences) {
            List<OpGraph> ops = new ArrayList<>();
            for (String n : sequence) {
                ops.add(byName.get(n));
            }
            if (ops.contains(null)) {
                continue;
            }
            FusedGraph fg = new FusedGraph("rgFused" + fused.size(), graphs.size(), ops);
            TaskGraph tg = new TaskGraph(fg.name).consumeFromDevice(all)
                    .transferToDevice(DataTransferMode.EVERY_EXECUTION, fg.perLaunch());
            for (int j = 0; j < ops.size(); j++) {
                ops.get(j).tasks.add(tg, FusedGraph.names(j), fg.ctx[j], fg.p[j], fg.f[j]);
            }
            graphs.add(tg.persistOnDevice(all).snapshot());
            fused.put(signature(sequence), fg);
        }

        GridScheduler grid = new GridScheduler();
        List<uk.ac.manchester.tornado.api.WorkerGrid1D> initGrids = new ArrayList<>();
        for (String n : initNames) {
            uk.ac.manchester.tornado.api.WorkerGrid1D w = new uk.ac.manchester.tornado.api.WorkerGrid1D(1);
            w.setGlobalWork(1, 1, 1);
            w.setLocalWork(1, 1, 1);
            grid.addWorkerGrid(n + ".t", w);
            initGrids.add(w);
        }
        for (OpGraph s : specs) {
            for (int t = 0; t < s.grids.length; t++) {
                grid.addWorkerGrid(s.name + "." + OpGraph.OWN_NAMES[t], s.grids[t]);
            }
        }
        for (FusedGraph fg : fused.values()) {
            for (int j = 0; j < fg.ops.size(); j++) {
                String[] names = FusedGraph.names(j);
                for (int t = 0; t < fg.grids[j].length; t++) {
                    grid.addWorkerGrid(fg.name + "." + names[t], fg.grids[j][t]);
                }
            }
        }
        plan = new TornadoExecutionPlan(graphs.toArray(new ImmutableTaskGraph[0]));
        plan.withDevice(device);
        plan.withGridScheduler(grid);
        TornadoExecutionResult last = null;
        for (int i = 0; i < inits; i++) {
            last = plan.withGraph(i).execute();
        }
        initResult = last;
    }

    private static Object[] shared(FloatArray arena, FloatArray sf, FloatArray lut, List<WeightStore.Group> groups, int count) {
        List<Object> out = new ArrayList<>(List.of(arena, sf, lut));
        for (int i = 0; i < count; i++) {
            WeightStore.Group g = groups.get(i);
            out.add(g.f);
            out.add(g.s);
            out.add(g.b);
        }
        return out.toArray();
    }

    /** Adds the graph of one kernel: consumes the shared buffers, transfers p (f, extra) every launch, persists. */
    private OpGraph op(String name, Object[] all, int taskCount, boolean usesF, boolean fusable, Object[] extra,
            OpGraph.Tasks tasks) {
        OpGraph g = new OpGraph(name, graphs.size(), taskCount, tasks, usesF, fusable);
        List<Object> perLaunch = new ArrayList<>(List.of(g.p));
        if (usesF) {
            perLaunch.add(g.f);
        }
        if (extra != null) {
            perLaunch.addAll(List.of(extra));
        }
        TaskGraph tg = new TaskGraph(name).consumeFromDevice(all)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, perLaunch.toArray());
        tasks.add(tg, OpGraph.OWN_NAMES, g.ctx, g.p, g.f);
        graphs.add(tg.persistOnDevice(all).snapshot());
        specs.add(g);
        byName.put(name, g);
        return g;
    }

    @Override
    public void close() {
        try {
            plan.withAllGraphs();
            plan.close();
        } catch (Exception | Error e) {
            // freeing is best effort: the plan is discarded either way
        }
    }
}
