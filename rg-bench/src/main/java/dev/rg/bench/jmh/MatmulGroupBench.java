package dev.rg.bench.jmh;

import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.bench.cost.MatrixShape;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The matmuls of a layer that share their input, as {@code Kernels.matmulGroup} ({@link #grouped}) against one
 * {@code matmul} per weight ({@link #separate}): the same bytes and flops, so the difference is what the group saves
 * (one dispatch, the input prepared once, no core idle at the end of each small matmul). Groups are named by their
 * shapes, {@code OUTxIN} joined by {@code +}; the defaults are the 2B model's attention q/k/v and MLP gate/up.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MatmulGroupBench {

    /** The group's weights in {@code format} and the input/outputs of {@code rows} tokens. */
    @State(Scope.Benchmark)
    public static class Group extends BackendFixture {
        /** Weight format name. */
        @Param("bf16")
        public String format;

        /** The group's weight shapes, {@code OUTxIN+OUTxIN+...} with one IN. */
        @Param({"2560x2560+256x2560+256x2560", "7680x2560+7680x2560"})
        public String shapes;

        /** Rows of the input: 1 is a decode step, more a batch or a prompt chunk. */
        @Param("1")
        public int rows;

        Weight[] weights;
        Weight[] biases;
        Tensor[] outs;
        Tensor x;

        @Setup(Level.Trial)
        public void setup() {
            open();
            String[] parts = shapes.split("\\+");
            weights = new Weight[parts.length];
            biases = new Weight[parts.length];
            outs = new Tensor[parts.length];
            int in = -1;
            for (int i = 0; i < parts.length; i++) {
                MatrixShape s = MatrixShape.parse(parts[i]);
                if (in >= 0 && s.in() != in) {
                    throw new IllegalArgumentException("shapes: every weight of a group reads the same input, but "
                            + parts[i] + " has IN " + s.in() + " and the first " + in);
                }
                in = s.in();
                weights[i] = data.weight(be, arena, "w" + i + " " + parts[i], WeightFormats.byName(format), 0,
                        1 / Math.sqrt(s.in()), s.out(), s.in());
                outs[i] = own(be.allocate(rows, s.out()));
            }
            x = own(data.tensor(be, "x", rows, in, 1.0));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** The group as one op. */
    @Benchmark
    public float grouped(Group s) {
        s.k.matmulGroup(s.x, s.weights, s.biases, s.outs);
        return s.sync();
    }

    /** The same matmuls one by one. */
    @Benchmark
    public float separate(Group s) {
        for (int i = 0; i < s.weights.length; i++) {
            s.k.matmul(s.x, s.weights[i], null, s.outs[i]);
        }
        return s.sync();
    }
}
