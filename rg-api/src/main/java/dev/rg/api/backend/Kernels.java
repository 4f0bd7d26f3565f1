package dev.rg.api.backend;

import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;

/**
 * The kernel operations of the Griffin forward pass. All tensors belong to the backend that provides these
 * kernels; activations and state are float32 row-major matrices whose rows are tokens (see {@link SeqBatch}).
 * Only token ids, positions, sampled ids and the requested logits cross between host and device.
 *
 * <p>Exact semantics are those of the reference backend, which every backend is tested against by the
 * conformance kit. Output tensors never alias inputs unless a method says so. Each op's arguments are checked by
 * its {@link KernelArgs} method, which an implementation calls first.
 *
 * <p>Every op has a default body that throws {@link UnsupportedOperationException}: a backend implements the ops it
 * accelerates, and the runtime ({@code FallbackKernels}) runs every op the backend does not implement, or does not
 * list in its {@link Capabilities}, on the reference kernels, and reports it as a fallback. So a backend keeps
 * compiling, and keeps working, when an op is added here. Fused ops ({@link #matmulGroup}, {@link #geluMulMatmul},
 * {@link #addRmsNorm}, {@link #ropeQk}, {@link #matmulAdd}, {@link #geluMulMatmulAdd}, {@link #rmsNormMatmulGroup})
 * instead default to the plain ops they fuse.
 *
 * <p>A state tensor ({@code [batch, ...]} below: conv history, RG-LRU state, key/value caches) may have more rows
 * than the call's {@code seq.batch()}: row b is sequence b of the call and rows from {@code seq.batch()} on are
 * left untouched (a decoder holding states for more sequences advances the first ones, see
 * {@link KernelArgs#state}).
 */
public interface Kernels {

    /** {@code out[r] = table[ids[r]] * scale}. {@code table} is {@code [V, H]} and {@code out} {@code [ids.length, H]}. */
    default void embed(int[] ids, Weight table, float scale, Tensor out) {
        throw unsupported("embed");
    }

    /**
     * {@code out = x @ w^T + bias}: {@code x [N, in]}, {@code w [out, in]} in any weight format,
     * {@code bias [out]} or {@code null}, {@code out [N, out]}. Accumulates in float32 (or wider).
     */
    default void matmul(Tensor x, Weight w, Weight bias, Tensor out) {
        throw unsupported("matmul");
    }

    /**
     * Matmuls that read the same input, as one op: {@code outs[i] = x @ weights[i]^T + biases[i]} for every
     * {@code i}. Each layer of the forward pass has such a group (the recurrent block's two branches, q/k/v, the
     * MLP's gate and up): a backend can prepare the input once and run all the weight rows in one dispatch, so no
     * core waits at the end of each small matmul. The arrays are not modified; entries of {@code biases} may be
     * null. The default runs {@link #matmul} for each, so a backend that does not override it behaves as before.
     */
    default void matmulGroup(Tensor x, Weight[] weights, Weight[] biases, Tensor[] outs) {
        KernelArgs.matmulGroup(x, weights, biases, outs);
        for (int i = 0; i < weights.length; i++) {
            matmul(x, weights[i], biases[i], outs[i]);
        }
    }

    /** RMSNorm with a zero-centred scale: {@code out = x / sqrt(mean(x^2) + eps) * (1 + w)}, row-wise. */
    default void rmsNorm(Tensor x, Weight scale, float eps, Tensor out) {
        throw unsupported("rmsNorm");
    }

    /** Tanh-approximated GELU, elementwise. {@code out} may be {@code x}. */
    default void gelu(Tensor x, Tensor out) {
        throw unsupported("gelu");
    }

    /** {@code out = gelu(gate) * up}, elementwise. {@code out} may alias {@code gate} or {@code up}. */
    default void geluMul(Tensor gate, Tensor up, Tensor out) {
        throw unsupported("geluMul");
    }

    /**
     * The MLP's GeGLU and down projection, fused: {@code out = (gelu(gate) * up) @ w^T + bias}, with {@code gate} and
     * {@code up} {@code [N, in]}, {@code w [out, in]} in any weight format, {@code bias [out]} or {@code null},
     * {@code out [N, out]} (not aliasing {@code gate} or {@code up}). {@code gate} is scratch: afterwards it holds
     * either its old values or {@code gelu(gate) * up}, so a caller must not read it again; {@code up} is not modified.
     * A device backend computes {@code gelu(gate) * up} while it loads the matmul's activations and saves a launch
     * and a pass over the activations. The default runs {@link #geluMul} into {@code gate}, then {@link #matmul}, so a
     * backend that does not override it behaves as before.
     */
    default void geluMulMatmul(Tensor gate, Tensor up, Weight w, Weight bias, Tensor out) {
        KernelArgs.geluMulMatmul(gate, up, w, bias, out);
        geluMul(gate, up, gate);
        matmul(gate, w, bias, out);
    }

    /**
     * A block's output projection and the residual add after it, fused: {@code residual += x @ w^T + bias} (the
     * matmul's result rounded to float32 first, so it equals {@link #matmul} into {@code delta} and then
     * {@link #add}). {@code delta [N, out]} is scratch: afterwards it holds either its old values or the matmul's
     * result. A device backend adds in the matmul's epilogue and saves a launch and a pass. The default runs
     * {@link #matmul} into {@code delta}, then {@link #add}.
     */
    default void matmulAdd(Tensor x, Weight w, Weight bias, Tensor delta, Tensor residual) {
        KernelArgs.matmulAdd(x, w, bias, delta, residual);
        matmul(x, w, bias, delta);
        add(residual, delta, residual);
    }

    /**
     * {@link #geluMulMatmul} and the residual add after it, fused: {@code residual += (gelu(gate) * up) @ w^T + bias},
     * rounded as {@link #geluMulMatmul} into {@code delta} and then {@link #add}. {@code gate} and {@code delta} are
     * scratch as in those two ops; {@code up} is not modified. The default runs exactly those two ops.
     */
    default void geluMulMatmulAdd(Tensor gate, Tensor up, Weight w, Weight bias, Tensor delta, Tensor residual) {
        KernelArgs.geluMulMatmulAdd(gate, up, w, bias, delta, residual);
        geluMulMatmul(gate, up, w, bias, delta);
        add(residual, delta, residual);
    }

    /**
     * The norm in front of a block and the block's first matmuls, fused: {@code outs[i] = rmsNorm(x, scale, eps) @
     * weights[i]^T + biases[i]}, the norm rounded to float32 as {@link #rmsNorm} rounds it. {@code normed} (shaped like
     * {@code x}) is scratch: afterwards it holds either its old values or the norm. A device backend normalises while
     * it loads the matmuls' input and saves a launch. The default runs {@link #rmsNorm} into {@code normed}, then
     * {@link #matmulGroup}.
     */
    default void rmsNormMatmulGroup(Tensor x, Weight scale, float eps, Tensor normed, Weight[] weights, Weight[] biases,
            Tensor[] outs) {
        KernelArgs.rmsNormMatmulGroup(x, scale, normed, weights, biases, outs);
        rmsNorm(x, scale, eps, normed);
        matmulGroup(normed, weights, biases, outs);
    }

    /**
     * Which of two equivalent sequences of ops the forward pass should use between blocks. {@code false} (the default):
     * the output projection into a scratch tensor, {@link #addRmsNorm}, then the next {@link #matmulGroup}.
     * {@code true}: {@link #matmulAdd} or {@link #geluMulMatmulAdd}, then {@link #rmsNormMatmulGroup}. Both compute
     * the same values; the second has two ops fewer per block, which pays where an op costs a launch (a GPU), and the
     * first keeps a backend's own fused {@link #addRmsNorm}. A backend that says {@code true} should implement the
     * three fused ops; otherwise their defaults run the plain ops.
     */
    default boolean fusesNormsIntoMatmuls() {
        return false;
    }

    /** {@code out = a * b}, elementwise. {@code out} may alias an input. */
    default void mul(Tensor a, Tensor b, Tensor out) {
        throw unsupported("mul");
    }

    /** {@code out = a + b}, elementwise. {@code out} may alias an input. */
    default void add(Tensor a, Tensor b, Tensor out) {
        throw unsupported("add");
    }

    /**
     * Runs {@code ops} (calls of this object's methods, in order) and tells the backend that they form one unit
     * that recurs with the same sequence of ops (a layer of one kind, the LM head): a device backend may record
     * such a unit and launch it as one device graph the next times it recurs. The result must be exactly that of
     * running the ops one by one; a host transfer inside {@code ops} is allowed (a backend then runs what it has
     * recorded first). Calls do not nest. The default runs {@code ops}, which is what every backend without graphs
     * does.
     */
    default void group(Runnable ops) {
        ops.run();
    }

    /**
     * The step inputs of the forward pass about to run, given before its first op: the sequences' positions (the
     * same {@code seq} its position-dependent ops then get). A device backend that records {@link #group}s as
     * graphs puts them in device memory now, once per pass, where its kernels read them: a group's recorded launches
     * are then the same every decode step, with no host transfer inside (the positions change, the launches do not).
     * Token ids need no such call: {@link #embed} is a pass's first op, outside every group. The default does
     * nothing; the ops receive {@code seq} either way, so a backend that ignores this call loses nothing.
     */
    default void stepInputs(SeqBatch seq) {
    }

    /**
     * The residual add of one block and the norm in front of the next, fused: {@code x += delta}, then
     * {@code normed = rmsNorm(x, scale, eps)}, row-wise. A decode step does this twice per layer; a device backend
     * saves a launch and a pass over {@code x} each time. The default composes {@link #add} and {@link #rmsNorm}, so
     * a backend that does not override it behaves exactly as before.
     */
    default void addRmsNorm(Tensor x, Tensor delta, Weight scale, float eps, Tensor normed) {
        add(x, delta, x);
        rmsNorm(x, scale, eps, normed);
    }

    /**
     * Causal depthwise convolution with bias over time, per sequence, continuing from {@code state}:
     * {@code out[t,c] = bias[c] + sum_k kernel[c,0,k] * x[t-(K-1)+k, c]} where inputs before this call come from
     * {@code state} ({@code [batch, (K-1)*C]}, oldest first, zeros for a fresh sequence). Afterwards
     * {@code state} holds the last K-1 inputs. {@code kernel} is {@code [C, 1, K]}.
     */
    default void conv1d(Tensor x, SeqBatch seq, Weight kernel, Weight bias, Tensor state, Tensor out) {
        throw unsupported("conv1d");
    }

    /**
     * The RG-LRU over time, per sequence: block-diagonal input and recurrent gates, {@code log_a = -8 *
     * sigmoid(gate_a) * c} where {@code c = softplus(Λ)} is {@link RgLruWeights#softplusLambda()}, computed once at
     * load (never per call), {@code h = a*h + sqrt(1-a^2) * (x*gate_x)} with a reset (a = 0, multiplier 1) at
     * position 0. {@code state} ({@code [batch, R]}, float32) carries h between calls; {@code out} receives h at
     * every step.
     */
    default void rgLru(Tensor x, SeqBatch seq, RgLruWeights weights, Tensor state, Tensor out) {
        throw unsupported("rgLru");
    }

    /**
     * Rotary embedding in place on the first {@code rotaryDim} dims of every head of {@code x}
     * ({@code [N, heads*headDim]}), NeoX pairing (j, j + rotaryDim/2), angle {@code position * theta^(-2j/rotaryDim)}
     * computed in float32.
     */
    default void rope(Tensor x, SeqBatch seq, int heads, int headDim, int rotaryDim, float theta) {
        throw unsupported("rope");
    }

    /**
     * The attention block's two rotary embeddings as one op: {@link #rope} of {@code q} ({@code [N, heads*headDim]})
     * and of {@code k} ({@code [N, kvHeads*headDim]}), both in place, at the same positions and with the same
     * {@code rotaryDim} and {@code theta}; {@code q} and {@code k} must be different tensors. A device backend rotates
     * both in one launch instead of two. (The KV ring write cannot join them: slot {@code p % W} still holds position
     * {@code p - W}, which the query at {@code p} attends, so the write has to wait for the attention.) The default
     * runs {@link #rope} on each, so a backend that does not override it behaves as before.
     */
    default void ropeQk(Tensor q, Tensor k, SeqBatch seq, int heads, int kvHeads, int headDim, int rotaryDim, float theta) {
        KernelArgs.ropeQk(q, k, seq, heads, kvHeads, headDim, rotaryDim);
        rope(q, seq, heads, headDim, rotaryDim, theta);
        rope(k, seq, kvHeads, headDim, rotaryDim, theta);
    }

    /**
     * Local multi-query attention with DeepMind window semantics: the query at position t attends the keys of
     * positions max(0, t-W) .. t, taken from this call's {@code k, v} or, for positions before the call, from
     * the caches ({@code [batch, W*kvHeads*headDim]}, position p in slot {@code p % W}). Scores are scaled by
     * {@code headDim^-0.5}. Afterwards the caches hold the keys/values of the last W positions.
     * {@code q, out [N, heads*headDim]}, {@code k, v [N, kvHeads*headDim]}.
     */
    default void localAttention(Tensor q, Tensor k, Tensor v, SeqBatch seq, AttentionSpec spec, Tensor keyCache,
            Tensor valueCache, Tensor out) {
        throw unsupported("localAttention");
    }

    /** {@code x = cap * tanh(x / cap)} in place. */
    default void softCap(Tensor x, float cap) {
        throw unsupported("softCap");
    }

    /** Copies {@code rows} rows from {@code src} starting at {@code srcRow} to {@code dst} at {@code dstRow}. */
    default void copyRows(Tensor src, int srcRow, Tensor dst, int dstRow, int rows) {
        throw unsupported("copyRows");
    }

    /** Index of the largest value of each row (lowest index on ties) into {@code dst[row]}. */
    default void argmax(Tensor x, int[] dst) {
        throw unsupported("argmax");
    }

    /**
     * The {@code k} largest values of each row, in descending order (lowest index first on ties), into
     * {@code ids[row*k ..]} and {@code values[row*k ..]}.
     */
    default void topK(Tensor x, int k, int[] ids, float[] values) {
        throw unsupported("topK");
    }

    /** Sets every element of {@code t} to {@code value}. */
    default void fill(Tensor t, float value) {
        throw unsupported("fill");
    }

    /** The exception of an op this backend does not implement (the runtime routes such ops to the reference). */
    private UnsupportedOperationException unsupported(String op) {
        return new UnsupportedOperationException(op + " is not implemented by this backend (" + getClass().getName()
                + "); the runtime runs it on the reference kernels");
    }
}
