package dev.rg.bench.jmh;

import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.api.tensor.Tensor;
import java.util.Map;
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
 * One whole decode step of a random-weight model of real shapes ({@code Model.random}: linear layers in
 * {@code format}, the tied embedding/LM head bf16): embed, every layer, final norm, LM head, soft cap and the
 * greedy argmax (whose id comes back to the host, so a device backend is timed to completion). The state is
 * reset before each iteration, so every iteration decodes the same positions.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class DecodeBench {

    /** The model and one sequence's state. */
    @State(Scope.Benchmark)
    public static class Decode {
        /** Backend name. */
        @Param("reference")
        public String backend;

        /** Worker threads. */
        @Param("1")
        public int threads;

        /** Weight format of the linear layers. */
        @Param("bf16")
        public String format;

        /** Model architecture preset. */
        @Param("2b")
        public String preset;

        Model model;
        Griffin g;
        ModelState state;
        final int[] token = new int[1];
        final int[] next = new int[1];

        @Setup(Level.Trial)
        public void setup() {
            Backends.entry(backend); // a clear skip message before building gigabytes of weights
            model = Model.random(ModelConfig.preset(preset), format, SeededData.SEED,
                    new LoadOptions(backend, threads, null, false, Map.of()), LoadProgress.NONE);
            g = model.griffin();
            state = model.newState(1);
        }

        @Setup(Level.Iteration)
        public void reset() {
            state.reset();
            token[0] = model.config().bosId();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (state != null) {
                state.close();
            }
            if (model != null) {
                model.close();
            }
        }
    }

    /** Embed one token, run every layer and the LM head, pick the next token. */
    @Benchmark
    public int decodeStep(Decode s) {
        Tensor logits = s.g.forward(s.state, s.token, 1, Outputs.LAST);
        s.g.kernels().argmax(logits, s.next);
        s.token[0] = s.next[0];
        return s.next[0];
    }
}
