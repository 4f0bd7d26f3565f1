package dev.rg.backend.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;

/**
 * Launches kernels on the current {@link KernelPlan}, one graph execution each, or, inside a {@link #group}, records
 * them and replays the whole group as one {@link FusedGraph} execution once that sequence has been compiled.
 *
 * <p>A sequence is compiled when it has recurred: the first time a group's launch sequence is seen it runs op by op;
 * when it has been seen {@link #RECUR} times it is marked wanted, and at the end of the next sampling step
 * ({@link #markStep}) or host read ({@link #stepBoundary}) the session rebuilds the plan with every wanted sequence as a fused graph. A decode step of
 * RecurrentGemma is then one execution per layer, one for the head, one for the embedding and one for the argmax.
 * Anything that needs the device buffers to be current (a transfer, a plan rebuild) calls {@link #flush} first.
 */
final class Launcher {
    /** Occurrences of a launch sequence before it is compiled as one graph. */
    static final int RECUR = 2;
    /** Longest sequence compiled as one graph (a RecurrentGemma layer has 12 to 14 launches). */
    static final int MAX_FUSED = 64;
    /** Most fused graphs in one plan (a model needs about 5: the layer kinds, the head, prefill variants). */
    static final int MAX_SEQUENCES = 16;

    /** A recorded launch: its op graph, a copy of its parameters and its global work sizes per task. */
    private record Step(OpGraph op, int[] p, float[] f, long[] globals) {}

    private final int local;
    /** False: every launch runs alone (setting {@code fuse=false}, to measure what the fused graphs save). */
    private final boolean fuse;
    private KernelPlan plan;
    private TornadoExecutionResult last;
    private boolean recording;
    private boolean broken;
    private final List<Step> steps = new ArrayList<>();
    private final Map<String, Integer> seen = new HashMap<>();
    private final Map<String, List<String>> wanted = new LinkedHashMap<>();
    private boolean newlyWanted;
    private Runnable requestRebuild = () -> { };

    private long launches;
    private long fusedLaunches;
    private long launchesAtStep;
    private long lastStepLaunches;
    private long sampled;

    Launcher(int local, boolean fuse) {
        this.local = local;
        this.fuse = fuse;
    }

    void onRebuildNeeded(Runnable r) {
        this.requestRebuild = r;
    }

    /** Switches to a freshly built plan (after {@link #flush}: recorded launches belong to the old one). */
    void use(KernelPlan p) {
        if (!steps.isEmpty()) {
            throw new IllegalStateException("recorded tornado launches would be lost by a plan rebuild");
        }
        this.plan = p;
        this.last = p == null ? null : p.initResult;
    }

    KernelPlan plan() {
        return plan;
    }

    TornadoExecutionResult last() {
        return last;
    }

    /** The launch sequences to compile into the next plan. */
    List<List<String>> wantedSequences() {
        return List.copyOf(wanted.values());
    }

    int local() {
        return local;
    }

    /** Launches (or records) a graph whose tasks run {@code globals[i]} work-items each, rounded up to the local size. */
    void run(OpGraph g, long... globals) {
        long[] sizes = new long[g.grids.length];
        for (int t = 0; t < sizes.length; t++) {
            long n = Math.max(1, globals.length > t ? globals[t] : globals[0]);
            long rounded = (n + local - 1) / local * local;
            if (rounded > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("launch of " + n + " work-items is too large");
            }
            sizes[t] = rounded;
        }
        if (recording && g.fusable) {
            int[] p = g.p.getSegment().toArray(ValueLayout.JAVA_INT);
            float[] f = g.usesF ? g.f.getSegment().toArray(ValueLayout.JAVA_FLOAT) : null;
            steps.add(new Step(g, p, f, sizes));
            return;
        }
        flush();
        if (recording) {
            broken = true; // a kernel with host results inside a group: the group is not one graph
        }
        execute(g, sizes);
    }

    /** Launches a graph with one work-group of {@link #local()} items per unit. */
    void runGroups(OpGraph g, long groupsCount) {
        run(g, groupsCount * local);
    }

    private void execute(OpGraph g, long[] sizes) {
        for (int t = 0; t < sizes.length; t++) {
            g.grids[t].setGlobalWork(sizes[t], 1, 1);
            g.grids[t].setLocalWork(local, 1, 1);
        }
        last = plan.plan.withGraph(g.index).execute();
        launches++;
    }

    /** Runs the recorded launches one by one (their graphs' parameter arrays are free to reuse). */
    void flush() {
        if (steps.isEmpty()) {
            return;
        }
        if (recording) {
            broken = true;
        }
        List<Step> pending = new ArrayList<>(steps);
        steps.clear();
        for (Step s : pending) {
            MemorySegment.copy(s.p(), 0, s.op().p.getSegment(), ValueLayout.JAVA_INT, 0, s.p().length);
            if (s.f() != null) {
                MemorySegment.copy(s.f(), 0, s.op().f.getSegment(), ValueLayout.JAVA_FLOAT, 0, s.f().length);
            }
            execute(s.op(), s.globals());
        }
    }

    /** Runs {@code ops}, recording their launches, then launches them as one fused graph when there is one. */
    void group(Runnable ops) {
        if (recording || !fuse) {
            ops.run();
            return;
        }
        recording = true;
        broken = false;
        try {
            ops.run();
        } catch (RuntimeException | Error e) {
            recording = false;
            try {
                flush();
            } catch (RuntimeException | Error f) {
                e.addSuppressed(f);
            }
            throw e;
        }
        recording = false;
        endGroup();
    }

    private void endGroup() {
        if (broken || steps.isEmpty()) {
            flush();
            return;
        }
        List<String> names = new ArrayList<>(steps.size());
        for (Step s : steps) {
            names.add(s.op().name);
        }
        String key = KernelPlan.signature(names);
        FusedGraph fg = plan.fused.get(key);
        if (fg == null) {
            flush();
            int count = seen.merge(key, 1, Integer::sum);
            if (count == RECUR && steps.size() <= MAX_FUSED && wanted.size() < MAX_SEQUENCES && names.size() > 1) {
                wanted.put(key, names);
                newlyWanted = true;
            }
            return;
        }
        for (int j = 0; j < steps.size(); j++) {
            Step s = steps.get(j);
            MemorySegment.copy(s.p(), 0, fg.p[j].getSegment(), ValueLayout.JAVA_INT, 0, s.p().length);
            if (s.f() != null) {
                MemorySegment.copy(s.f(), 0, fg.f[j].getSegment(), ValueLayout.JAVA_FLOAT, 0, s.f().length);
            }
            for (int t = 0; t < s.globals().length; t++) {
                fg.grids[j][t].setGlobalWork(s.globals()[t], 1, 1);
                fg.grids[j][t].setLocalWork(local, 1, 1);
            }
        }
        steps.clear();
        last = plan.plan.withGraph(fg.index).execute();
        launches++;
        fusedLaunches++;
    }

    /**
     * Marks the end of a sampling step (an argmax or topK): counts the step's graph executions and, when launch
     * sequences became worth compiling during it, asks for a plan rebuild before the next kernel.
     */
    void markStep() {
        lastStepLaunches = launches - launchesAtStep;
        launchesAtStep = launches;
        sampled++;
        stepBoundary();
    }

    /**
     * The host reads results (a download, a sampling step): a good moment to rebuild the plan when launch sequences
     * became worth compiling.
     */
    void stepBoundary() {
        if (newlyWanted) {
            newlyWanted = false;
            requestRebuild.run();
        }
    }

    long launches() {
        return launches;
    }

    long fusedLaunches() {
        return fusedLaunches;
    }

    long lastStepLaunches() {
        return lastStepLaunches;
    }

    String stats(int builds) {
        return "tornado stats: " + launches + " graph executions (" + fusedLaunches + " of fused graphs), " + sampled
                + " sampling steps, last step " + lastStepLaunches + " executions, " + builds + " plan builds, "
                + wanted.size() + " fused sequences";
    }
}
