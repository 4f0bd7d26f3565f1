package dev.rg.core.model;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.KernelArgs;
import dev.rg.api.backend.Kernels;
import dev.rg.api.backend.SeqBatch;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;

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
        requireInput(batch, ids, length);
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

    /** Checks a call's input: at least one token per sequence, {@code batch * length} ids, each in the vocabulary. */
    private void requireInput(int batch, int[] ids, int length) {
        if (length < 1) {
            throw new IllegalArgumentException("empty input: at least one token per sequence is needed");
        }
        if (ids.length != batch * length) {
            throw new IllegalArgumentException(ids.length + " token ids for " + batch + " sequences of " + length);
        }
        KernelArgs.ids(ids, config.vocabSize());
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
        List<Span> spans = List.of(new Span(state, seq, 0, ws));
        k.stepInputs(seq); // positions onto a device now, so that the layer groups below hold no host transfer
        k.embed(ids, weights.embedding(), embedScale, ws.x);
        probe(ws.x, -1, "embedding");
        firstNorm(ws);
        for (int l = 0; l < config.layers(); l++) {
            int layer = l;
            // one layer is one recurring unit of ops: a device backend may launch it as one graph
            k.group(() -> layer(layer, spans, ws, observer));
        }
        state.advance(length);
        return ws;
    }

    /** The first layer's temporal norm (later layers' is fused into the previous layer's last residual add or group). */
    private void firstNorm(Workspace ws) {
        if (config.layers() > 0 && !normsInMatmuls) {
            k.rmsNorm(ws.x, weights.layers().getFirst().temporalNorm(), config.rmsNormEps(), ws.normed);
        }
    }

    /**
     * The rows of one state in a pass: its sequences ({@code seq}) from row {@code offset} of the pass's activations,
     * with its own activation set {@code own} for the ops that run per sequence over time (conv1d, RG-LRU, RoPE,
     * attention), or the pass's own set when it is the pass's only state.
     */
    private record Span(ModelState state, SeqBatch seq, int offset, Workspace own) {
        int rows() {
            return seq.rows();
        }
    }

    /** One state's share of a {@link #forwardTogether} pass: {@code length} tokens of each of its sequences. */
    public record Part(ModelState state, int[] ids, int length) {
        public Part {
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(ids, "ids");
        }
    }

    /**
     * The most token-rows a {@link #forwardTogether} pass may have: a pass's activation memory grows with its rows,
     * and a prefill pass is chunked to this many.
     */
    public static int maxRowsTogether() {
        return CHUNK_ROWS;
    }

    /**
     * Feeds several states in one forward pass and advances each: the row-wise ops (norms, every matmul, the MLP) run
     * once over all of their rows, so the weights are read once for all of them, and the ops over time (conv1d, RG-LRU,
     * RoPE, attention) run per state on its own rows. What continuous batching needs: the decode step of the sequences
     * decoding (one token each) and the next chunk of the prompts being prefilled (many tokens each) become one pass,
     * not two. Each state's rows are computed as in its own {@link #forward} call wherever the backend computes a row
     * independently of the other rows of a matmul (bit for bit on the reference backend; within the kernel tolerance
     * where a matmul's summation order depends on its row count).
     *
     * @return the logits of each sequence's last fed token (soft-capped, on the backend, valid until the next call on
     *         the first part's state): part {@code p}'s sequences in order, after the sequences of the parts before it
     * @throws IllegalArgumentException if the parts share a state, a part's ids do not match its state's batch and
     *         length, or the pass would exceed {@link #maxRowsTogether()} rows
     */
    public Tensor forwardTogether(List<Part> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("a pass needs at least one part");
        }
        if (parts.size() == 1) {
            Part only = parts.getFirst();
            return forward(only.state(), only.ids(), only.length(), Outputs.LAST);
        }
        int rows = 0;
        int sequences = 0;
        Set<ModelState> states = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Part p : parts) {
            int batch = p.state().batch();
            if (!states.add(p.state())) {
                throw new IllegalArgumentException("two parts of one pass share a state");
            }
            requireInput(batch, p.ids(), p.length());
            rows = Math.addExact(rows, batch * p.length());
            sequences += batch;
        }
        if (rows > maxRowsTogether()) {
            throw new IllegalArgumentException("a pass of " + rows + " token-rows; at most " + maxRowsTogether());
        }
        ModelState first = parts.getFirst().state();
        Workspace ws = first.workspaces().forRows(rows);
        int[] ids = new int[rows];
        List<Span> spans = new ArrayList<>(parts.size());
        int offset = 0;
        for (Part p : parts) {
            SeqBatch seq = new SeqBatch(p.state().batch(), p.length(), p.state().positions());
            System.arraycopy(p.ids(), 0, ids, offset, seq.rows());
            spans.add(new Span(p.state(), seq, offset, p.state().workspaces().forRows(seq.rows())));
            offset += seq.rows();
        }
        // no stepInputs and no layer groups: the positions change between the parts inside every layer
        k.embed(ids, weights.embedding(), embedScale, ws.x);
        probe(ws.x, -1, "embedding");
        firstNorm(ws);
        for (int l = 0; l < config.layers(); l++) {
            layer(l, spans, ws, null);
        }
        for (Part p : parts) {
            p.state().advance(p.length());
        }
        Workspaces.HeadBuffers hb = first.workspaces().head(sequences);
        int to = 0;
        for (Span s : spans) {
            gatherLastRows(ws.x, s.offset(), s.seq().batch(), s.seq().length(), hb.in(), to);
            to += s.seq().batch();
        }
        headOps(hb);
        return hb.logits();
    }

    /** Layer {@code l}: temporal block, MLP block, both residual adds and the next layer's temporal norm. */
    private void layer(int l, List<Span> spans, Workspace ws, LayerObserver observer) {
        LayerWeights lw = weights.layers().get(l);
        probe(ws.normed, l, "temporal_pre_norm");
        switch (lw) {
            case LayerWeights.RecurrentLayer r -> recurrent(r, spans, ws, l);
            case LayerWeights.AttentionLayer a -> attention(a, spans, ws, l);
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

    private void recurrent(LayerWeights.RecurrentLayer layer, List<Span> spans, Workspace ws, int l) {
        // §5: y = gelu(linear_y(x)); x = rg_lru(conv1d(linear_x(x))); out = linear_out(x * y)
        LayerWeights.Recurrent w = layer.recurrent();
        normedGroup(layer.temporalNorm(), temporalWeights[l], temporalBiases[l], ws, ws.linearYX);
        probe(ws.y, l, "linear_y");
        probe(ws.xb, l, "linear_x");
        for (Span s : spans) { // over time, per state: on its own rows
            Workspace own = s.own();
            if (own != ws) {
                k.copyRows(ws.xb, s.offset(), own.xb, 0, s.rows());
            }
            k.conv1d(own.xb, s.seq(), w.conv(), w.convBias(), s.state().conv(l), own.conv);
            probe(own.conv, l, "conv_1d");
            k.rgLru(own.conv, s.seq(), w.lru(), s.state().lru(l), own.xb);
            if (own != ws) {
                k.copyRows(own.xb, 0, ws.xb, s.offset(), s.rows());
            }
        }
        probe(ws.xb, l, "rg_lru");
        // the same tanh GELU as the MLP's gate (§5, §12.4), so the MLP's fused op fits: gelu(y) * x, then linear_out
        geluOutputProjection(ws.y, ws.xb, w.linearOut(), w.linearOutBias(), ws); // y is scratch from here on
        probe(ws.block, l, "linear_out");
    }

    private void attention(LayerWeights.AttentionLayer layer, List<Span> spans, Workspace ws, int l) {
        // §6: MQA with half-rotary RoPE over a window of W+1 keys
        LayerWeights.Attention w = layer.attention();
        normedGroup(layer.temporalNorm(), temporalWeights[l], temporalBiases[l], ws, ws.qkv);
        probe(ws.q, l, "q_proj");
        probe(ws.k, l, "k_proj");
        probe(ws.v, l, "v_proj");
        for (Span s : spans) { // over time, per state: on its own rows
            Workspace own = s.own();
            if (own != ws) {
                k.copyRows(ws.q, s.offset(), own.q, 0, s.rows());
                k.copyRows(ws.k, s.offset(), own.k, 0, s.rows());
                k.copyRows(ws.v, s.offset(), own.v, 0, s.rows());
            }
            k.ropeQk(own.q, own.k, s.seq(), config.heads(), config.kvHeads(), config.headDim(), config.rotaryDim(),
                    config.ropeTheta());
            probe(own.q, l, "rope(q)");
            probe(own.k, l, "rope(k)");
            k.localAttention(own.q, own.k, own.v, s.seq(), attention, s.state().keys(l), s.state().values(l), own.attn);
            if (own != ws) {
                k.copyRows(own.attn, 0, ws.attn, s.offset(), s.rows());
            }
        }
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
        k.group(() -> {
            gatherLastRows(x, 0, rows, stride, hb.in(), 0);
            headOps(hb);
        });
        return hb.logits();
    }

    /**
     * The last of every {@code length} rows of {@code groups} groups from row {@code from} of {@code x} into
     * {@code dst} from row {@code to}: one copy when each group is one row.
     */
    private void gatherLastRows(Tensor x, int from, int groups, int length, Tensor dst, int to) {
        if (length == 1) {
            k.copyRows(x, from, dst, to, groups);
        } else {
            for (int b = 0; b < groups; b++) {
                k.copyRows(x, from + b * length + length - 1, dst, to + b, 1);
            }
        }
    }

    /** Final norm, LM head and soft cap over the rows gathered in {@code hb.in()}. */
    private void headOps(Workspaces.HeadBuffers hb) {
        k.rmsNorm(hb.in(), weights.finalNorm(), config.rmsNormEps(), hb.normed());
        probe(hb.normed(), -2, "final_norm");
        k.matmul(hb.normed(), weights.embedding(), null, hb.logits());
        probe(hb.logits(), -2, "lm_head");
        k.softCap(hb.logits(), config.logitsSoftCap());
        probe(hb.logits(), -2, "soft cap");
    }
}
