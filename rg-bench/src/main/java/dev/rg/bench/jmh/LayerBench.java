package dev.rg.bench.jmh;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
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
 * Whole residual blocks of a layer, each pre-norm + block + residual add, as {@code Griffin.forward} runs
 * them (the kernel sequences below mirror {@code Griffin.recurrent/attention/mlp}; keep them in step): a
 * recurrent layer is {@link #recurrentBlock} + {@link #mlp}, an attention layer {@link #attentionBlock} +
 * {@link #mlp}. {@code tokens} = 1 is a decode step, more a prompt chunk; both continue a sequence past the
 * window, so attention sees a full ring. The residual goes to a separate tensor so that repeating the block
 * does not grow the activations.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LayerBench {

    /** The block's input, normalised input, output and residual sum, and the parameters shared by all blocks. */
    @State(Scope.Benchmark)
    public abstract static class Fixture extends BackendFixture {
        /** Weight format of the linear layers. */
        @Param("bf16")
        public String format;

        /** Model architecture preset. */
        @Param("2b")
        public String preset;

        /** Tokens per call (1 = decode). */
        @Param("1")
        public int tokens;

        ModelConfig c;
        ModelParts parts;
        WeightFormat f;
        SeqBatch seq;
        Weight norm;
        Tensor x;
        Tensor normed;
        Tensor block;
        Tensor out;

        final void prepare() {
            open();
            c = ModelConfig.preset(preset);
            parts = new ModelParts(data, be, arena, c);
            f = WeightFormats.byName(format);
            seq = SeqBatch.single(2 * c.window(), tokens);
            norm = parts.norm("pre_norm");
            int h = c.hiddenSize();
            x = own(data.tensor(be, "residual", tokens, h, 1.0));
            normed = own(be.allocate(tokens, h));
            block = own(be.allocate(tokens, h));
            out = own(be.allocate(tokens, h));
        }

        final float finish() {
            k.add(x, block, out);
            return sync();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** linear_y, linear_x, conv1d, RG-LRU, linear_out with their state. */
    @State(Scope.Benchmark)
    public static class Recurrent extends Fixture {
        Weight linY;
        Weight linYBias;
        Weight linX;
        Weight linXBias;
        Weight conv;
        Weight convBias;
        RgLruWeights lru;
        Weight linOut;
        Weight linOutBias;
        Tensor y;
        Tensor xb;
        Tensor convOut;
        Tensor convState;
        Tensor lruState;
        Weight[] branches;
        Weight[] branchBiases;
        Tensor[] branchOuts;

        @Setup(Level.Trial)
        public void setup() {
            prepare();
            int h = c.hiddenSize();
            int r = c.lruWidth();
            linY = parts.linear("linear_y", f, r, h);
            linYBias = parts.vector("linear_y.bias", r, 0, 0.05);
            linX = parts.linear("linear_x", f, r, h);
            linXBias = parts.vector("linear_x.bias", r, 0, 0.05);
            conv = parts.convKernel("conv_1d");
            convBias = parts.vector("conv_1d.bias", r, 0, 0.05);
            lru = parts.lru("rg_lru");
            linOut = parts.linear("linear_out", f, h, r);
            linOutBias = parts.vector("linear_out.bias", h, 0, 0.05);
            y = own(be.allocate(tokens, r));
            xb = own(be.allocate(tokens, r));
            convOut = own(be.allocate(tokens, r));
            convState = own(data.tensor(be, "conv state", 1, (c.convWidth() - 1) * r, 1.0));
            lruState = own(data.tensor(be, "lru state", 1, r, 1.0));
            branches = new Weight[] {linY, linX};
            branchBiases = new Weight[] {linYBias, linXBias};
            branchOuts = new Tensor[] {y, xb};
        }
    }

    /** q/k/v/o projections and the key/value rings. */
    @State(Scope.Benchmark)
    public static class Attention extends Fixture {
        AttentionSpec spec;
        Weight wq;
        Weight wk;
        Weight wv;
        Weight wo;
        Weight woBias;
        Tensor q;
        Tensor kt;
        Tensor vt;
        Tensor attn;
        Tensor keys;
        Tensor values;
        Weight[] qkv;
        Weight[] qkvBiases;
        Tensor[] qkvOuts;

        @Setup(Level.Trial)
        public void setup() {
            prepare();
            spec = parts.attention();
            int h = c.hiddenSize();
            int qCols = c.heads() * c.headDim();
            int kvCols = c.kvHeads() * c.headDim();
            wq = parts.linear("q_proj", f, qCols, h);
            wk = parts.linear("k_proj", f, kvCols, h);
            wv = parts.linear("v_proj", f, kvCols, h);
            wo = parts.linear("o_proj", f, h, qCols);
            woBias = parts.vector("o_proj.bias", h, 0, 0.05);
            q = own(be.allocate(tokens, qCols));
            kt = own(be.allocate(tokens, kvCols));
            vt = own(be.allocate(tokens, kvCols));
            attn = own(be.allocate(tokens, qCols));
            keys = own(data.tensor(be, "key ring", 1, spec.cacheCols(), 1.0));
            values = own(data.tensor(be, "value ring", 1, spec.cacheCols(), 1.0));
            qkv = new Weight[] {wq, wk, wv};
            qkvBiases = new Weight[3];
            qkvOuts = new Tensor[] {q, kt, vt};
        }
    }

    /** The GeGLU MLP. */
    @State(Scope.Benchmark)
    public static class Mlp extends Fixture {
        Weight gate;
        Weight gateBias;
        Weight up;
        Weight upBias;
        Weight down;
        Weight downBias;
        Tensor g;
        Tensor u;
        Weight[] gateUp;
        Weight[] gateUpBiases;
        Tensor[] gateUpOuts;

        @Setup(Level.Trial)
        public void setup() {
            prepare();
            int h = c.hiddenSize();
            int m = c.mlpWidth();
            gate = parts.linear("gate_proj", f, m, h);
            gateBias = parts.vector("gate_proj.bias", m, 0, 0.05);
            up = parts.linear("up_proj", f, m, h);
            upBias = parts.vector("up_proj.bias", m, 0, 0.05);
            down = parts.linear("down_proj", f, h, m);
            downBias = parts.vector("down_proj.bias", h, 0, 0.05);
            g = own(be.allocate(tokens, m));
            u = own(be.allocate(tokens, m));
            gateUp = new Weight[] {gate, up};
            gateUpBiases = new Weight[] {gateBias, upBias};
            gateUpOuts = new Tensor[] {g, u};
        }
    }

    /** Pre-norm + recurrent block + residual. */
    @Benchmark
    public float recurrentBlock(Recurrent s) {
        var k = s.k;
        k.rmsNorm(s.x, s.norm, s.c.rmsNormEps(), s.normed);
        k.matmulGroup(s.normed, s.branches, s.branchBiases, s.branchOuts);
        k.conv1d(s.xb, s.seq, s.conv, s.convBias, s.convState, s.convOut);
        k.rgLru(s.convOut, s.seq, s.lru, s.lruState, s.xb);
        k.geluMulMatmul(s.y, s.xb, s.linOut, s.linOutBias, s.block);
        return s.finish();
    }

    /** Pre-norm + attention block + residual. */
    @Benchmark
    public float attentionBlock(Attention s) {
        var k = s.k;
        ModelConfig c = s.c;
        k.rmsNorm(s.x, s.norm, c.rmsNormEps(), s.normed);
        k.matmulGroup(s.normed, s.qkv, s.qkvBiases, s.qkvOuts);
        k.ropeQk(s.q, s.kt, s.seq, c.heads(), c.kvHeads(), c.headDim(), c.rotaryDim(), c.ropeTheta());
        k.localAttention(s.q, s.kt, s.vt, s.seq, s.spec, s.keys, s.values, s.attn);
        k.matmul(s.attn, s.wo, s.woBias, s.block);
        return s.finish();
    }

    /** Pre-norm + MLP + residual. */
    @Benchmark
    public float mlp(Mlp s) {
        var k = s.k;
        k.rmsNorm(s.x, s.norm, s.c.rmsNormEps(), s.normed);
        k.matmulGroup(s.normed, s.gateUp, s.gateUpBiases, s.gateUpOuts);
        k.geluMulMatmul(s.g, s.u, s.down, s.downBias, s.block);
        return s.finish();
    }
}
