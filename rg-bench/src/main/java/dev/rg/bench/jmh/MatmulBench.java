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
 * {@code x @ w^T} for one linear layer: {@link #matvec} is the decode case (one token: bound by reading the
 * weight), {@link #prefill} a prompt chunk of {@code tokens} rows (bound by arithmetic when the kernel reuses
 * each weight load across rows), {@link #batch} the batched decode of {@code rows} sequences (2 to 16 rows: the
 * kernels' weight-rows-outermost path, one read of the weight for all rows; bound by the read while the FMAs keep up).
 * Shapes are {@code OUTxIN} ({@link MatrixShape}); the defaults are the 2B model's layers (the runner passes the
 * profile's).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MatmulBench {

    /** A weight in {@code format} and the input/output of {@code rows} tokens. */
    @State(Scope.Benchmark)
    public abstract static class Fixture extends BackendFixture {
        /** Weight format name of the linear layer. */
        @Param("bf16")
        public String format;

        /** Weight shape {@code OUTxIN}. */
        @Param({"2560x2560", "7680x2560", "2560x7680", "256x2560", "2560x256", "256000x2560"})
        public String shape;

        Weight w;
        Tensor x;
        Tensor y;

        final void prepare(int rows) {
            open();
            MatrixShape s = MatrixShape.parse(shape);
            // std 1/sqrt(in) as the model's initialisation: outputs stay O(1), no overflow in any format
            w = data.weight(be, arena, "w " + shape, WeightFormats.byName(format), 0, 1 / Math.sqrt(s.in()), s.out(), s.in());
            x = own(data.tensor(be, "x", rows, s.in(), 1.0));
            y = own(be.allocate(rows, s.out()));
        }

        final float run() {
            k.matmul(x, w, null, y);
            return sync();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** One token. */
    @State(Scope.Benchmark)
    public static class Decode extends Fixture {
        @Setup(Level.Trial)
        public void setup() {
            prepare(1);
        }
    }

    /** A prompt chunk. */
    @State(Scope.Benchmark)
    public static class Prefill extends Fixture {
        /** Rows of the input (prompt tokens). */
        @Param("128")
        public int tokens;

        @Setup(Level.Trial)
        public void setup() {
            prepare(tokens);
        }
    }

    /** One decode step of a batch of sequences. */
    @State(Scope.Benchmark)
    public static class Batch extends Fixture {
        /** Sequences decoded together (rows of the input). */
        @Param({"8", "16"})
        public int rows;

        @Setup(Level.Trial)
        public void setup() {
            prepare(rows);
        }
    }

    /** Matrix-vector product (N = 1). */
    @Benchmark
    public float matvec(Decode s) {
        return s.run();
    }

    /** Matrix-matrix product (N = tokens). */
    @Benchmark
    public float prefill(Prefill s) {
        return s.run();
    }

    /** Batched decode (N = rows). */
    @Benchmark
    public float batch(Batch s) {
        return s.run();
    }
}
