package dev.rg.bench.cost;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.Shape;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.ExpectedTensor;
import dev.rg.core.model.TensorRole;
import dev.rg.core.model.WeightNames;
import java.util.Map;
import java.util.Optional;

/**
 * Bytes and FLOPs of each benchmark of {@code dev.rg.bench.jmh}, from its JMH parameters. The runner writes
 * them into the sidecar when it plans a run (so a report never needs the format plugins); the report falls
 * back to this class for results that came without one.
 *
 * <p>The formulas follow the kernel semantics of {@link dev.rg.api.backend.Kernels} and the block structure of
 * {@code Griffin}; weights are counted at their format's {@link WeightFormat#byteSize}, activations and state
 * as float32. Keep them in step with the benchmarks.
 */
public final class CostModel {
    private static final int F32 = 4;
    /** Elementwise cost of the tanh GELU (a handful of multiplies and one tanh). */
    private static final int GELU_FLOPS = 8;
    /** Elementwise cost of one RG-LRU step after the gates (sigmoids, exp, sqrt, multiplies; softplus(Λ) is from the load). */
    private static final int LRU_FLOPS = 16;

    private CostModel() {}

    /** The cost of one invocation, or empty when the benchmark or one of its parameters (a format) is unknown. */
    public static Optional<OpCost> of(String benchmark, Map<String, String> params) {
        String op = benchmark.substring(benchmark.lastIndexOf('.') + 1);
        try {
            return Optional.ofNullable(switch (op) {
                case "matvec" -> matmul(1, MatrixShape.parse(params.get("shape")), format(params));
                case "prefill" -> matmul(tokens(params), MatrixShape.parse(params.get("shape")), format(params));
                case "batch" -> matmul(Integer.parseInt(params.get("rows")), MatrixShape.parse(params.get("shape")), format(params));
                case "rmsNorm" -> rmsNorm(1, config(params).hiddenSize());
                case "conv1dStep" -> conv1d(1, config(params));
                case "rgLruStep" -> rgLru(1, config(params));
                case "rgLruScan" -> rgLru(tokens(params), config(params));
                case "attentionDecode" -> attention(1, config(params));
                case "recurrentBlock" -> recurrentBlock(tokens(params), config(params), format(params));
                case "attentionBlock" -> attentionBlock(tokens(params), config(params), format(params));
                case "mlp" -> mlpBlock(tokens(params), config(params), format(params));
                case "decodeStep" -> decodeStep(config(params), format(params));
                default -> null;
            });
        } catch (RuntimeException e) {
            return Optional.empty(); // a format this JVM does not know, a malformed parameter: no figure
        }
    }

    private static WeightFormat format(Map<String, String> p) {
        return WeightFormats.byName(p.get("format"));
    }

    private static int tokens(Map<String, String> p) {
        return Integer.parseInt(p.get("tokens"));
    }

    private static ModelConfig config(Map<String, String> p) {
        return ModelConfig.preset(p.get("preset"));
    }

    /** {@code x [n, in] @ w^T -> [n, out]} without bias, the weight read once. */
    public static OpCost matmul(int n, MatrixShape s, WeightFormat f) {
        return new OpCost(2.0 * n * s.elements(),
                f.byteSize(Shape.of(s.out(), s.in())) + (double) F32 * n * (s.in() + s.out()));
    }

    static OpCost rmsNorm(int n, int h) {
        return new OpCost(4.0 * n * h, F32 * (2.0 * n * h + h));
    }

    /** Causal depthwise conv of K taps over n steps, state of K-1 steps read and written. */
    static OpCost conv1d(int n, ModelConfig c) {
        int r = c.lruWidth();
        int k = c.convWidth();
        return new OpCost(2.0 * k * r * n, F32 * (2.0 * n * r + 2.0 * (k - 1) * r + (double) k * r + r));
    }

    /** Two block-diagonal gate matmuls plus the recurrence, over n steps. */
    static OpCost rgLru(int n, ModelConfig c) {
        int r = c.lruWidth();
        int bw = r / c.heads();
        double gateWeights = 2.0 * c.heads() * bw * bw;
        return new OpCost(2.0 * 2.0 * n * r * bw + (double) LRU_FLOPS * n * r,
                F32 * (gateWeights + 3.0 * r + 2.0 * n * r + 2.0 * r));
    }

    /** n queries at a position past the window: each sees W+1 keys; both rings read once. */
    static OpCost attention(int n, ModelConfig c) {
        int keys = c.window() + 1;
        int q = c.heads() * c.headDim();
        int kv = c.kvHeads() * c.headDim();
        double flops = n * (4.0 * c.heads() * keys * c.headDim() + 3.0 * c.heads() * keys);
        double bytes = F32 * (2.0 * c.window() * kv + n * (2.0 * q + 4.0 * kv));
        return new OpCost(flops, bytes);
    }

    private static OpCost rope(int n, int heads, ModelConfig c) {
        return new OpCost(3.0 * n * heads * c.rotaryDim(), F32 * 2.0 * n * heads * c.headDim());
    }

    /** Elementwise op over {@code elements} values: {@code inputs} read, one written. */
    private static OpCost elementwise(double elements, int flopsEach, int inputs) {
        return new OpCost(flopsEach * elements, F32 * (inputs + 1) * elements);
    }

    private static OpCost matmulBias(int n, int out, int in, WeightFormat f) {
        return matmul(n, new MatrixShape(out, in), f).plus(new OpCost(n * (double) out, F32 * (double) out));
    }

    /** Pre-norm, linear_y + GELU, linear_x, conv1d, RG-LRU, gating, linear_out, residual add. */
    public static OpCost recurrentBlock(int n, ModelConfig c, WeightFormat f) {
        int h = c.hiddenSize();
        int r = c.lruWidth();
        return rmsNorm(n, h)
                .plus(matmulBias(n, r, h, f)).plus(elementwise((double) n * r, GELU_FLOPS, 1))
                .plus(matmulBias(n, r, h, f))
                .plus(conv1d(n, c)).plus(rgLru(n, c))
                .plus(elementwise((double) n * r, 1, 2))
                .plus(matmulBias(n, h, r, f))
                .plus(elementwise((double) n * h, 1, 2));
    }

    /** Pre-norm, q/k/v, RoPE on q and k, local attention over a full ring, o_proj, residual add. */
    public static OpCost attentionBlock(int n, ModelConfig c, WeightFormat f) {
        int h = c.hiddenSize();
        int q = c.heads() * c.headDim();
        int kv = c.kvHeads() * c.headDim();
        return rmsNorm(n, h)
                .plus(matmul(n, new MatrixShape(q, h), f)).plus(matmul(n, new MatrixShape(kv, h), f))
                .plus(matmul(n, new MatrixShape(kv, h), f))
                .plus(rope(n, c.heads(), c)).plus(rope(n, c.kvHeads(), c))
                .plus(attention(n, c))
                .plus(matmulBias(n, h, q, f))
                .plus(elementwise((double) n * h, 1, 2));
    }

    /** Pre-norm, gate and up, GELU(gate) * up, down, residual add. */
    public static OpCost mlpBlock(int n, ModelConfig c, WeightFormat f) {
        int h = c.hiddenSize();
        int m = c.mlpWidth();
        return rmsNorm(n, h)
                .plus(matmulBias(n, m, h, f)).plus(matmulBias(n, m, h, f))
                .plus(elementwise((double) n * m, GELU_FLOPS + 1, 2))
                .plus(matmulBias(n, h, m, f))
                .plus(elementwise((double) n * h, 1, 2));
    }

    /**
     * One decoded token of the whole model as {@code Model.random} builds it (linear layers in {@code f}, the
     * tied embedding/LM head in bf16, the rest f32): every weight read once, the LM head in full; the fixed state
     * read and written once (key/value rings counted full, although the benchmark's positions start at 0).
     */
    public static OpCost decodeStep(ModelConfig c, WeightFormat f) {
        double bytes = 0;
        double flops = 0;
        for (ExpectedTensor t : WeightNames.tensors(c)) {
            Shape s = t.shape();
            WeightFormat wf = switch (t.role()) {
                case LINEAR -> f;
                case EMBEDDING -> WeightFormats.bf16();
                case NORM, BIAS, CONV, GATE, PARAM -> WeightFormats.f32();
            };
            bytes += wf.byteSize(s);
            if (t.role() == TensorRole.LINEAR || t.role() == TensorRole.EMBEDDING) {
                flops += 2.0 * s.elementCount();
            }
        }
        int attentionLayers = c.count(BlockType.ATTENTION);
        int recurrentLayers = c.count(BlockType.RECURRENT);
        OpCost attn = attention(1, c);
        flops += attentionLayers * attn.flops() + recurrentLayers * (rgLru(1, c).flops() + conv1d(1, c).flops());
        double state = attentionLayers * 2.0 * c.window() * c.kvHeads() * c.headDim()
                + recurrentLayers * (double) c.lruWidth() * c.convWidth();
        bytes += 2.0 * F32 * state;
        return new OpCost(flops, bytes);
    }
}
