package dev.rg.backend.tornado;

import dev.rg.backend.tornado.kernels.RgKernels;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One kernel's task graph in the current plan: its index in the plan, the parameter arrays copied with every launch
 * (TornadoVM freezes scalar task arguments when a graph is built, so offsets and sizes travel in {@link #p} and
 * {@link #f}) and one worker grid per task. {@link #tasks} adds the kernel's task(s) to any task graph, so a
 * {@link FusedGraph} can chain the same kernels with parameter arrays of its own.
 */
final class OpGraph {
    /** Adds a kernel's task(s), named {@code names[0]} (and {@code names[1]}), reading parameters from p and f. */
    interface Tasks {
        void add(TaskGraph graph, String[] names, KernelContext ctx, IntArray p, FloatArray f);
    }

    final String name;
    final int index;
    final IntArray p = new IntArray(RgKernels.P_SIZE);
    final FloatArray f = new FloatArray(RgKernels.F_SIZE);
    final WorkerGrid1D[] grids;
    final KernelContext ctx = new KernelContext();
    final Tasks tasks;
    /** Whether the kernel reads {@link #f} (else f is not transferred). */
    final boolean usesF;
    /**
     * Whether a launch may be recorded into a fused graph: kernels that only touch the device buffers. Staging and
     * result kernels (their own host arrays) always launch alone.
     */
    final boolean fusable;

    OpGraph(String name, int index, int taskCount, Tasks tasks, boolean usesF, boolean fusable) {
        this.name = name;
        this.index = index;
        this.grids = new WorkerGrid1D[taskCount];
        for (int i = 0; i < taskCount; i++) {
            grids[i] = new WorkerGrid1D(1);
        }
        this.tasks = tasks;
        this.usesF = usesF;
        this.fusable = fusable;
    }

    /** The task names of the graph of its own. */
    static final String[] OWN_NAMES = {"t", "u"};
}
