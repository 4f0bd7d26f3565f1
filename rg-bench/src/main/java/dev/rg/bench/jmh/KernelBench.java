package dev.rg.bench.jmh;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.core.config.ModelConfig;
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
 * The small kernels of a decode step, at the sizes of a preset ({@code 2b}: H = R = 2560, 10 heads of 256,
 * W = 2048): RMSNorm, one conv1d step, one RG-LRU step, an RG-LRU scan over a prompt, and one local-attention
 * decode step over a full ring (W + 1 keys). They do not take a quantisable weight, so they have no format.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class KernelBench {

    /** Inputs, weights and state of one token at a position past the window. */
    @State(Scope.Benchmark)
    public static class Step extends BackendFixture {
        /** Model architecture preset: 2b, 9b or tiny. */
        @Param("2b")
        public String preset;

        SeqBatch seq;
        Weight normScale;
        Tensor hidden;
        Tensor hiddenOut;
        Weight conv;
        Weight convBias;
        Tensor convState;
        Tensor lruIn;
        Tensor lruState;
        Tensor lruOut;
        RgLruWeights lru;
        AttentionSpec spec;
        Tensor q;
        Tensor kNew;
        Tensor vNew;
        Tensor keys;
        Tensor values;
        Tensor attnOut;

        @Setup(Level.Trial)
        public void setup() {
            open();
            ModelConfig c = ModelConfig.preset(preset);
            ModelParts parts = new ModelParts(data, be, arena, c);
            int h = c.hiddenSize();
            int r = c.lruWidth();
            spec = parts.attention();
            // past the window: the ring is full and every step sees W + 1 keys (the steady state of a long chat)
            seq = SeqBatch.single(2 * c.window(), 1);
            normScale = parts.norm("norm");
            hidden = own(data.tensor(be, "hidden", 1, h, 1.0));
            hiddenOut = own(be.allocate(1, h));
            conv = parts.convKernel("conv");
            convBias = parts.vector("conv.bias", r, 0, 0.05);
            convState = own(data.tensor(be, "conv state", 1, (c.convWidth() - 1) * r, 1.0));
            lruIn = own(data.tensor(be, "lru in", 1, r, 1.0));
            lruState = own(data.tensor(be, "lru state", 1, r, 1.0));
            lruOut = own(be.allocate(1, r));
            lru = parts.lru("lru");
            int qCols = c.heads() * c.headDim();
            int kvCols = c.kvHeads() * c.headDim();
            q = own(data.tensor(be, "q", 1, qCols, 1.0));
            kNew = own(data.tensor(be, "k", 1, kvCols, 1.0));
            vNew = own(data.tensor(be, "v", 1, kvCols, 1.0));
            keys = own(data.tensor(be, "key ring", 1, spec.cacheCols(), 1.0));
            values = own(data.tensor(be, "value ring", 1, spec.cacheCols(), 1.0));
            attnOut = own(be.allocate(1, qCols));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** An RG-LRU over a prompt of {@code tokens} steps. */
    @State(Scope.Benchmark)
    public static class Scan extends BackendFixture {
        /** Model architecture preset. */
        @Param("2b")
        public String preset;

        /** Prompt length. */
        @Param("128")
        public int tokens;

        SeqBatch seq;
        RgLruWeights lru;
        Tensor in;
        Tensor state;
        Tensor out;

        @Setup(Level.Trial)
        public void setup() {
            open();
            ModelConfig c = ModelConfig.preset(preset);
            ModelParts parts = new ModelParts(data, be, arena, c);
            seq = SeqBatch.single(0, tokens);
            lru = parts.lru("lru");
            in = own(data.tensor(be, "lru in", tokens, c.lruWidth(), 1.0));
            state = own(be.allocate(1, c.lruWidth()));
            out = own(be.allocate(tokens, c.lruWidth()));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** RMSNorm of one hidden vector. */
    @Benchmark
    public float rmsNorm(Step s) {
        s.k.rmsNorm(s.hidden, s.normScale, 1e-6f, s.hiddenOut);
        return s.sync();
    }

    /** One step of the causal conv1d (K taps) with its state. */
    @Benchmark
    public float conv1dStep(Step s) {
        s.k.conv1d(s.lruIn, s.seq, s.conv, s.convBias, s.convState, s.lruOut);
        return s.sync();
    }

    /** One RG-LRU step (gates and recurrence). */
    @Benchmark
    public float rgLruStep(Step s) {
        s.k.rgLru(s.lruIn, s.seq, s.lru, s.lruState, s.lruOut);
        return s.sync();
    }

    /** The RG-LRU over a whole prompt (the sequential scan of prefill). */
    @Benchmark
    public float rgLruScan(Scan s) {
        s.k.rgLru(s.in, s.seq, s.lru, s.state, s.out);
        return s.sync();
    }

    /** One decode step of local MQA attention over a full ring of W slots. */
    @Benchmark
    public float attentionDecode(Step s) {
        s.k.localAttention(s.q, s.kNew, s.vNew, s.seq, s.spec, s.keys, s.values, s.attnOut);
        return s.sync();
    }
}
