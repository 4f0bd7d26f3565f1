package dev.rg.core.model;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.KernelArgs;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.core.config.ModelConfig;

/**
 * The Griffin forward pass (spec §3-6) over backend kernels. Weights, activations and state stay on the
 * backend; a call takes token ids and returns logits that are still on the backend.
 *
 * <p>Window semantics are DeepMind's: the query at position t sees keys t-W..t, in prefill and decode alike.
 * A call may continue a sequence (chunked prefill, multi-turn chat): the state carries everything.
 *
 * <p>A model may be shared by threads; each thread uses its own {@link ModelState}.
 */
public final class Griffin {
    private final ModelConfig config;
    private final Backend backend;
    private final Kernels k;
    private final ModelWeights weights;
    private final AttentionSpec attention;
    private final float embedScale;
    /** Whether every op's output is downloaded and checked for NaN/Inf (debugging: slow). */
    private final boolean checked;
    /**
     * Whether each block's output projection adds into the residual stream itself and the next group of matmuls
     * applies its norm ({@link Kernels#fusesNormsIntoMatmuls}): two ops fewer per layer on a device backend. Off in a
     * {@link #checked} model, whose probes read the normed activations that the fused ops need not write.
     */
    private final boolean normsInMatmuls;
    /**
     * Per layer, the weights (and biases) of the matmuls that read the temporal block's input (linear_y and linear_x,
     * or q, k and v) and of the MLP's gate and up, as {@link Kernels#matmulGroup} takes them: built once, so a step
     * allocates nothing.
     */
    private final Weight[][] temporalWeights;
    private final Weight[][] temporalBiases;
    private final Weight[][] mlpWeights;
    private final Weight[][] mlpBiases;

    public Griffin(ModelConfig config, Backend backend, Kernels kernels, ModelWeights weights) {
        this(config, backend, kernels, weights, false);
    }

    private Griffin(ModelConfig config, Backend backend, Kernels kernels, ModelWeights weights, boolean checked) {
        this.checked = checked;
        this.normsInMatmuls = !checked && kernels.fusesNormsIntoMatmuls();
        this.config = config;
        this.backend = backend;
        this.k = kernels;
        this.weights = weights;
        this.attention = new AttentionSpec(config.heads(), config.kvHeads(), config.headDim(), config.window());
        this.embedScale = config.embeddingScale();
        int layers = weights.layers().size();
        temporalWeights = new Weight[layers][];
        temporalBiases = new Weight[layers][];
        mlpWeights = new Weight[layers][];
        mlpBiases = new Weight[layers][];
        for (int l = 0; l < layers; l++) {
            LayerWeights lw = weights.layers().get(l);
            switch (lw) {
                case LayerWeights.RecurrentLayer rl -> {
                    LayerWeights.Recurrent r = rl.recurrent();
                    temporalWeights[l] = new Weight[] {r.linearY(), r.linearX()};
                    temporalBiases[l] = new Weight[] {r.linearYBias(), r.linearXBias()};
                }
                case LayerWeights.AttentionLayer al -> {
                    LayerWeights.Attention a = al.attention();
                    temporalWeights[l] = new Weight[] {a.q(), a.k(), a.v()};
                    temporalBiases[l] = new Weight[] {a.qBias(), a.kBias(), a.vBias()};
                }
            }
            LayerWeights.Mlp m = lw.mlp();
            mlpWeights[l] = new Weight[] {m.gate(), m.up()};
            mlpBiases[l] = new Weight[] {m.gateBias(), m.upBias()};
        }
    }

    public ModelConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** The kernels the model runs on (the backend's, with per-op fallbacks where it lacks one). */
    public Kernels kernels() {
        return k;
    }

    public ModelWeights weights() {
        return weights;
    }

    /** A fresh state for {@code batch} sequences at position 0. */
    public ModelState newState(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        return new ModelState(backend, k, config, attention, batch);
    }

    /**
     * Feeds {@code length} tokens of each of the state's sequences ({@code ids[b*length + t]}) and advances the
     * state.
     *
     * @return the logits selected by {@code outputs} (soft-capped, on the backend, valid until the next call on
     *         this state), or null for {@link Outputs#NONE}
     */
    public Tensor forward(ModelState state, int[] ids, int length, Outputs outputs, LayerObserver observer) {
        int batch = state.batch();
        if (length < 1) {
            throw new IllegalArgumentException("empty input: at least one token per sequence is needed");
        }
        if (ids.length != batch * length) {
            throw new IllegalArgumentException(ids.length + " token ids for " + batch + " sequences of " + length);
        }
        KernelArgs.ids(ids, config.vocabSize());
        int chunk = chunkTokens(batch);
        if (length <= chunk || observer != null) {
            // one pass; an observed call (debugging, fixtures) is never chunked so the observer sees every row at once
            Workspace ws = body(state, ids, length, observer);
            return switch (outputs) {
                case NONE -> null;
                case LAST -> head(state, ws.x, batch, length);
                case ALL -> head(state, ws.x, batch * length, 1);
            };
        }
        return chunked(state, ids, length, outputs, chunk);
    }

    /**
     * Tokens per sequence in one pass of a prefill: {@value #CHUNK_ROWS} rows in all, at least one per sequence.
     * A longer call runs in chunks of this size, so its activation memory does not depend on the prompt length.
     */
    static int chunkTokens(int batch) {
        return Math.max(1, CHUNK_ROWS / batch);
    }

    /** Rows of one prefill pass: large enough that the matmuls run at full speed, small enough to be cheap in memory. */
    static final int CHUNK_ROWS = 256;

    /**
     * A long call in fixed-size chunks: each chunk continues the sequences where the previous one stopped (the
     * state carries everything), so the result equals one pass up to float rounding. For {@link Outputs#ALL} the
     * final hidden rows ({@code H} floats per token) are collected and go through the head once at the end: the
     * logits asked for are the only memory that grows with the length.
     */
    private Tensor chunked(ModelState state, int[] ids, int length, Outputs outputs, int chunk) {
        int batch = state.batch();
        Tensor collected = outputs == Outputs.ALL ? backend.allocate(batch * length, config.hiddenSize()) : null;
        try {
            Workspace ws = null;
            int n = 0;
            for (int start = 0; start < length; start += n) {
                n = Math.min(chunk, length - start);
                int[] part = new int[batch * n];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(ids, b * length + start, part, b * n, n);
                }
                ws = body(state, part, n, null);
                if (collected != null) {
                    for (int b = 0; b < batch; b++) {
                        k.copyRows(ws.x, b * n, collected, b * length + start, n);
                    }
                }
            }
            return switch (outputs) {
                case NONE -> null;
                case LAST -> head(state, ws.x, batch, n);
                case ALL -> head(state, collected, batch * length, 1);
            };
        } finally {
            if (collected != null) {
                collected.close();
            }
        }
    }

    /** Embedding and every layer for {@code length} tokens per sequence; advances the state. */
    private Workspace body(ModelState state, int[] ids, int length, LayerObserver observer) {
        SeqBatch seq = new SeqBatch(state.batch(), length, state.positions());
        Workspace ws = state.workspaces().forRows(seq.rows());
        k.stepInputs(seq); // positions onto a device now, so that the layer groups below hold no host transfer
        k.embed(ids, weights.embedding(), embedScale, ws.x);
        probe(ws.x, -1, "embedding");
        if (config.layers() > 0 && !normsInMatmuls) {
            k.rmsNorm(ws.x, weights.layers().getFirst().temporalNorm(), config.rmsNormEps(), ws.normed);
        } // later layers' temporal norm is fused into the previous layer's last residual add (or into their first group)
        for (int l = 0; l < config.layers(); l++) {
            int layer = l;
            // one layer is one recurring unit of ops: a device backend may launch it as one graph
            k.group(() -> layer(layer, seq, ws, state, observer));
        }
        state.advance(length);
        return ws;
    }

    /** Layer {@code l}: temporal block, MLP block, both residual adds and the next layer's temporal norm. */
    private void layer(int l, SeqBatch seq, Workspace ws, ModelState state, LayerObserver observer) {
        LayerWeights lw = weights.layers().get(l);
        probe(ws.normed, l, "temporal_pre_norm");
        switch (lw) {
            case LayerWeights.RecurrentLayer r -> recurrent(r, seq, ws, state, l);
            case LayerWeights.AttentionLayer a -> attention(a, seq, ws, state, l);
        }
        if (!normsInMatmuls) { // else the output projection added ws.block into ws.x, and the MLP's group norms it
            k.addRmsNorm(ws.x, ws.block, lw.channelNorm(), config.rmsNormEps(), ws.normed);
        }
        probe(ws.x, l, "temporal residual add");
        probe(ws.normed, l, "channel_pre_norm");
        mlp(lw, ws, l);
        if (!normsInMatmuls) { // else the down projection added into ws.x, and the next layer's first group norms it
            if (l + 1 < config.layers()) {
                k.addRmsNorm(ws.x, ws.block, weights.layers().get(l + 1).temporalNorm(), config.rmsNormEps(), ws.normed);
            } else {
                k.add(ws.x, ws.block, ws.x);
            }
        }
        probe(ws.x, l, "mlp residual add");
        if (observer != null) {
            observer.afterLayer(l, ws.x);
        }
    }

    /** Feeds tokens without an observer. */
    public Tensor forward(ModelState state, int[] ids, int length, Outputs outputs) {
        return forward(state, ids, length, outputs, null);
    }

    /**
     * The matmuls that read a block's normed input: from {@code ws.normed} as the previous op left it, or with the norm
     * applied by the group itself.
     */
    private void normedGroup(Weight norm, Weight[] groupWeights, Weight[] groupBiases, Workspace ws, Tensor[] outs) {
        if (normsInMatmuls) {
            k.rmsNormMatmulGroup(ws.x, norm, config.rmsNormEps(), ws.normed, groupWeights, groupBiases, outs);
        } else {
            k.matmulGroup(ws.normed, groupWeights, groupBiases, outs);
        }
    }

    /** A block's output projection: into {@code ws.block}, or added into the residual stream {@code ws.x} directly. */
    private void outputProjection(Tensor in, Weight w, Weight bias, Workspace ws) {
        if (normsInMatmuls) {
            k.matmulAdd(in, w, bias, ws.block, ws.x);
        } else {
            k.matmul(in, w, bias, ws.block);
        }
    }

    /** {@link #outputProjection} of {@code gelu(gate) * up} ({@code gate} is scratch from here on). */
    private void geluOutputProjection(Tensor gate, Tensor up, Weight w, Weight bias, Workspace ws) {
        if (normsInMatmuls) {
            k.geluMulMatmulAdd(gate, up, w, bias, ws.block, ws.x);
        } else {
            k.geluMulMatmul(gate, up, w, bias, ws.block);
        }
    }

    private void recurrent(LayerWeights.RecurrentLayer layer, SeqBatch seq, Workspace ws, ModelState state, int l) {
        // §5: y = gelu(linear_y(x)); x = rg_lru(conv1d(linear_x(x))); out = linear_out(x * y)
        LayerWeights.Recurrent w = layer.recurrent();
        normedGroup(layer.temporalNorm(), temporalWeights[l], temporalBiases[l], ws, ws.linearYX);
        probe(ws.y, l, "linear_y");
        probe(ws.xb, l, "linear_x");
        k.conv1d(ws.xb, seq, w.conv(), w.convBias(), state.conv(l), ws.conv);
        probe(ws.conv, l, "conv_1d");
        k.rgLru(ws.conv, seq, w.lru(), state.lru(l), ws.xb);
        probe(ws.xb, l, "rg_lru");
        // the same tanh GELU as the MLP's gate (§5, §12.4), so the MLP's fused op fits: gelu(y) * x, then linear_out
        geluOutputProjection(ws.y, ws.xb, w.linearOut(), w.linearOutBias(), ws); // y is scratch from here on
        probe(ws.block, l, "linear_out");
    }

    private void attention(LayerWeights.AttentionLayer layer, SeqBatch seq, Workspace ws, ModelState state, int l) {
        // §6: MQA with half-rotary RoPE over a window of W+1 keys
        LayerWeights.Attention w = layer.attention();
        normedGroup(layer.temporalNorm(), temporalWeights[l], temporalBiases[l], ws, ws.qkv);
        probe(ws.q, l, "q_proj");
        probe(ws.k, l, "k_proj");
        probe(ws.v, l, "v_proj");
        k.ropeQk(ws.q, ws.k, seq, config.heads(), config.kvHeads(), config.headDim(), config.rotaryDim(), config.ropeTheta());
        probe(ws.q, l, "rope(q)");
        probe(ws.k, l, "rope(k)");
        k.localAttention(ws.q, ws.k, ws.v, seq, attention, state.keys(l), state.values(l), ws.attn);
        probe(ws.attn, l, "local attention");
        outputProjection(ws.attn, w.o(), w.oBias(), ws);
        probe(ws.block, l, "o_proj");
    }

    private void mlp(LayerWeights layer, Workspace ws, int l) {
        // §4: down(gelu(gate(x)) * up(x))
        LayerWeights.Mlp w = layer.mlp();
        normedGroup(layer.channelNorm(), mlpWeights[l], mlpBiases[l], ws, ws.gateUp);
        probe(ws.gate, l, "mlp gate_proj");
        probe(ws.up, l, "mlp up_proj");
        geluOutputProjection(ws.gate, ws.up, w.down(), w.downBias(), ws); // gate is scratch from here on
        probe(ws.block, l, "mlp down_proj");
    }

    /**
     * This model with every op's output checked for NaN and infinities (downloaded after each op: slow, for
     * diagnosis). Its forward calls throw a {@link NonFiniteException} naming the first layer and op that
     * produced one.
     */
    public Griffin checked() {
        return checked ? this : new Griffin(config, backend, k, weights, true);
    }

    /**
     * Runs {@code ids} (one sequence from position 0) through the {@link #checked} model in a fresh state and
     * returns where the first non-finite value appears ("layer 3 (attention), op k_proj: NaN at token 5 ..."), or
     * null when every op's output is finite.
     */
    public String locateNonFinite(int[] ids) {
        try (ModelState s = newState(1)) {
            checked().forward(s, ids, ids.length, Outputs.LAST);
            return null;
        } catch (NonFiniteException e) {
            return e.getMessage();
        }
    }

    /** In a {@link #checked} model: throws if {@code t} holds a NaN or an infinity. Layer -1 is the embedding, -2 the head. */
    private void probe(Tensor t, int layer, String op) {
        if (!checked) {
            return;
        }
        float[] v = new float[Math.toIntExact(t.size())];
        backend.download(t, v);
        int i = Finite.firstNonFinite(v, 0, v.length);
        if (i >= 0) {
            String where = layer == -1 ? "the embedding" : layer == -2 ? "the LM head"
                    : "layer " + layer + " (" + config.blockType(layer).name().toLowerCase(java.util.Locale.ROOT) + ")";
            throw new NonFiniteException(where + ", op " + op + ": " + Finite.describe(v[i]) + " at row " + i / t.cols()
                    + ", column " + i % t.cols());
        }
    }

    /** Final norm, tied LM head and soft cap over every {@code stride}-th row ending each group. */
    private Tensor head(ModelState state, Tensor x, int rows, int stride) {
        Workspaces.HeadBuffers hb = state.workspaces().head(rows);
        k.group(() -> headOps(hb, x, rows, stride));
        return hb.logits();
    }

    private void headOps(Workspaces.HeadBuffers hb, Tensor x, int rows, int stride) {
        if (stride == 1) {
            k.copyRows(x, 0, hb.in(), 0, rows);
        } else {
            for (int b = 0; b < rows; b++) {
                k.copyRows(x, b * stride + stride - 1, hb.in(), b, 1);
            }
        }
        k.rmsNorm(hb.in(), weights.finalNorm(), config.rmsNormEps(), hb.normed());
        probe(hb.normed(), -2, "final_norm");
        k.matmul(hb.normed(), weights.embedding(), null, hb.logits());
        probe(hb.logits(), -2, "lm_head");
        k.softCap(hb.logits(), config.logitsSoftCap());
        probe(hb.logits(), -2, "soft cap");
    }
}
