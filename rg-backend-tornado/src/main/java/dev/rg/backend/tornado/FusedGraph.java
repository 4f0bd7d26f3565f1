package dev.rg.backend.tornado;

import dev.rg.backend.tornado.kernels.RgKernels;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A recorded sequence of kernel launches (a layer, the LM head) compiled as one task graph: the same kernels as
 * their {@link OpGraph}s, each task with parameter arrays of its own, so one execution replays the whole sequence on
 * the device (TornadoVM runs a graph's tasks back to back) and only the parameter arrays cross.
 */
final class FusedGraph {
    final String name;
    final int index;
    /** The kernels in launch order. */
    final List<OpGraph> ops;
    final IntArray[] p;
    final FloatArray[] f;
    final KernelContext[] ctx;
    /** Per op, one grid per task. */
    final WorkerGrid1D[][] grids;

    FusedGraph(String name, int index, List<OpGraph> ops) {
        this.name = name;
        this.index = index;
        this.ops = List.copyOf(ops);
        int n = ops.size();
        this.p = new IntArray[n];
        this.f = new FloatArray[n];
        this.ctx = new KernelContext[n];
        this.grids = new WorkerGrid1D[n][];
        for (int j = 0; j < n; j++) {
            p[j] = new IntArray(RgKernels.P_SIZE);
            f[j] = new FloatArray(RgKernels.F_SIZE);
            ctx[j] = new KernelContext();
            grids[j] = new WorkerGrid1D[ops.get(j).grids.length];
            for (int t = 0; t < grids[j].length; t++) {
                grids[j][t] = new WorkerGrid1D(1);
            }
        }
    }

    /** Task names of op {@code j}. */
    static String[] names(int j) {
        return new String[] {"t" + j, "u" + j};
    }

    /** The arrays transferred with every execution: every op's p, and f where its kernel reads it. */
    Object[] perLaunch() {
        List<Object> out = new ArrayList<>();
        for (int j = 0; j < ops.size(); j++) {
            out.add(p[j]);
            if (ops.get(j).usesF) {
                out.add(f[j]);
            }
        }
        return out.toArray();
    }
}
