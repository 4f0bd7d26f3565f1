package dev.rg.core.generate;

import dev.rg.api.backend.Backend;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.model.Finite;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.NonFiniteException;
import dev.rg.core.model.Outputs;
import dev.rg.core.model.SavedState;
import dev.rg.core.tokenizer.GemmaTokenizer;
import dev.rg.core.tokenizer.StreamingDecoder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * One conversation or text continuation over a model's fixed-size state: {@link #feed feed} tokens (a
 * prompt, a chat turn), then {@link #generate} streams new ones. Further feeds continue the same sequence,
 * so a chat never re-encodes its history. Memory does not grow with the number of tokens processed beyond
 * the returned text and the processed token ids (4 bytes each, kept so that {@link #save} can record them).
 * A session can be {@linkplain #save saved} to a file and {@linkplain #restore restored} later, in another process,
 * without processing its tokens again. Sessions are independent: many may share one {@link Model} from different threads; one
 * session is used by one thread at a time.
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final GemmaTokenizer tokenizer;
    private final ModelState state;
    private final Backend backend;
    private final int vocab;
    private final float[] logitsRow;
    private final DeviceTopK topK = new DeviceTopK();
    private final Sampler[] oneSampler = new Sampler[1];
    private final int[] picked = new int[1];
    private final int[] argmax = new int[1];
    private final int[] one = new int[1];
    /** Tokens of the context so far, for the repetition penalty (fixed size: one bit per vocabulary entry). */
    private final BitSet seen;
    private Tensor lastLogits;
    /** The last chosen token, not yet fed (it is fed first by the next {@link #feed} or decode step). */
    private int pending = -1;
    /** Every token fed through the model so far: {@code history[0 .. historyLength)}. */
    private int[] history = new int[64];
    private int historyLength;
    /** Logits uploaded by {@link #restore}, owned here until the next forward pass replaces them. */
    private Tensor restoredLogits;

    /** @param tokenizer may be null for an ids-only session */
    public Session(Model model, GemmaTokenizer tokenizer) {
        if (tokenizer != null) {
            tokenizer.checkFits(model.config().vocabSize());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.state = model.newState(1);
        this.backend = model.backend();
        this.vocab = model.config().vocabSize();
        this.logitsRow = new float[vocab];
        this.seen = new BitSet(vocab);
    }

    /** Tokens processed so far (the next token's position). */
    public int position() {
        return state.position(0) + (pending >= 0 ? 1 : 0);
    }

    /** The last generated token if it has not been fed through the model yet (it will be, first, by the next feed), else -1. */
    public int pendingToken() {
        return pending;
    }

    /** Starts over at position 0. */
    public void reset() {
        state.reset();
        seen.clear();
        lastLogits = null;
        releaseRestoredLogits();
        pending = -1;
        historyLength = 0;
    }

    /** Every token fed through the model so far (not the pending one). */
    public int[] tokens() {
        return Arrays.copyOf(history, historyLength);
    }

    /**
     * Writes this session to {@code file} ({@link SavedState}: the state, the token ids, the pending token, and the
     * last logits when none is pending), whole or not at all.
     *
     * @param extra the caller's own metadata, returned by {@link SavedState#extra} when read back
     */
    public void save(Path file, Map<String, String> extra) {
        float[] logits = null;
        if (pending < 0 && lastLogits != null) {
            logits = new float[vocab];
            backend.download(lastLogits, logits);
        }
        SavedState.write(file, model, state, 0, tokens(), pending, logits, extra);
    }

    /** Reads {@code file} (checked against this session's model) and continues from it: see {@link #restore(SavedState)}. */
    public SavedState restore(Path file) {
        SavedState saved = SavedState.read(file, model);
        restore(saved);
        return saved;
    }

    /**
     * Replaces this session's state with {@code saved} (read for this session's model): the next {@link #feed} or
     * {@link #generate} continues exactly where the saved session stopped.
     */
    public void restore(SavedState saved) {
        reset();
        saved.restoreInto(model, state, 0);
        int[] ids = saved.tokens();
        history = Arrays.copyOf(ids, Math.max(64, ids.length));
        historyLength = ids.length;
        for (int id : ids) {
            seen.set(id);
        }
        pending = saved.pending();
        if (pending >= 0) {
            seen.set(pending);
        }
        float[] logits = saved.logits();
        if (logits != null) {
            restoredLogits = backend.allocate(1, vocab);
            backend.upload(logits, restoredLogits);
            lastLogits = restoredLogits;
        }
    }

    private void releaseRestoredLogits() {
        if (restoredLogits != null) {
            restoredLogits.close();
            restoredLogits = null;
        }
    }

    private void remember(int[] ids, int n) {
        if (historyLength + n > history.length) {
            history = Arrays.copyOf(history, Math.max(history.length * 2, historyLength + n));
        }
        System.arraycopy(ids, 0, history, historyLength, n);
        historyLength += n;
    }

    /** The model this session runs. */
    public Model model() {
        return model;
    }

    /** The tokenizer, or null. */
    public GemmaTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Feeds tokens (after the pending last generated token, if any); the logits of the last one are kept
     * for the next {@link #generate}.
     *
     * @return nanoseconds spent
     */
    public long feed(int[] ids) {
        if (ids.length == 0 && pending < 0) {
            throw new IllegalArgumentException("empty prompt: at least one token is needed");
        }
        int[] all = ids;
        if (pending >= 0) {
            all = new int[ids.length + 1];
            all[0] = pending;
            System.arraycopy(ids, 0, all, 1, ids.length);
        }
        for (int id : ids) {
            if (id >= 0 && id < vocab) {
                seen.set(id);
            }
        }
        long t0 = System.nanoTime();
        int start = state.position(0);
        lastLogits = model.griffin().forward(state, all, all.length, Outputs.LAST);
        releaseRestoredLogits();
        remember(all, all.length);
        pending = -1;
        long nanos = System.nanoTime() - t0;
        // one download per feed (not per token): a model that computes NaN says so here, where it can be located
        backend.download(lastLogits, logitsRow);
        int bad = Finite.firstNonFinite(logitsRow, 0, vocab);
        if (bad >= 0) {
            String where = start == 0 ? model.griffin().locateNonFinite(all) : null;
            throw new NonFiniteException("the model computed " + Finite.describe(logitsRow[bad]) + " logits for the prompt ("
                    + (where != null ? "first in " + where : "position " + (start + all.length - 1)) + ")" + ADVICE);
        }
        return nanos;
    }

    /** Logits (soft-capped) of the last fed token, downloaded. */
    public float[] lastLogits() {
        requireLogits();
        float[] out = new float[vocab];
        backend.download(lastLogits, out);
        return out;
    }

    private void requireLogits() {
        if (lastLogits == null || pending >= 0) {
            if (pending >= 0) {
                step(pending);
                pending = -1;
                return;
            }
            throw new IllegalStateException("nothing fed yet: feed a prompt first");
        }
    }

    private void step(int token) {
        one[0] = token;
        lastLogits = model.griffin().forward(state, one, 1, Outputs.LAST);
        releaseRestoredLogits();
        remember(one, 1);
    }

    /** Encodes {@code prompt} with BOS, resets, feeds it and generates. */
    public GenerationResult generate(String prompt, GenerationConfig config, TextSink sink) {
        int[] ids = encodeWithBos(prompt);
        reset();
        long prefill = feed(ids);
        GenerationResult r = generate(config, sink);
        return new GenerationResult(ids.length, r.tokens(), r.text(), r.reason(), prefill, r.decodeNanos());
    }

    /** {@code [BOS] + encode(text)}; rejects an empty prompt. */
    public int[] encodeWithBos(String text) {
        if (tokenizer == null) {
            throw new IllegalStateException("this session has no tokenizer");
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty prompt: give some text to continue");
        }
        int[] body = tokenizer.encode(text);
        int[] ids = new int[body.length + 1];
        ids[0] = model.config().bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    /** Generates from the current state (after {@link #feed}). */
    public GenerationResult generate(GenerationConfig config, TextSink sink) {
        requireLogits();
        Set<Integer> stopIds = new HashSet<>(config.stopIds());
        if (config.stopOnEos()) {
            stopIds.add(model.config().eosId());
            if (tokenizer != null) {
                tokenizer.idOf("<end_of_turn>").ifPresent(stopIds::add);
            }
        }
        JsonConstraint json = config.json() ? JsonConstraint.of(tokenizer) : null;
        // JSON mode draws on the host from the masked row, also greedily (a greedy sampler takes its argmax)
        Sampler sampler = config.sampling().isGreedy() && json == null ? null : new Sampler(config.sampling(), seen, vocab);
        StreamingDecoder decoder = tokenizer == null ? null : tokenizer.streamingDecoder();
        StopStrings stops = new StopStrings(config.stopStrings());
        StringBuilder text = new StringBuilder();
        int[] tokens = new int[Math.min(config.maxNewTokens(), 1024)];
        int count = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        long t0 = System.nanoTime();
        for (int n = 0; n < config.maxNewTokens(); n++) {
            if (n > 0) {
                step(pending);
                pending = -1;
            }
            int token = json == null ? choose(sampler) : chooseJson(sampler, json);
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count * 2);
            }
            tokens[count++] = token;
            pending = token;
            seen.set(token);
            if (json != null) {
                json.accept(token);
            }
            if (stopIds.contains(token)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            if (decoder != null) {
                String piece = stops.push(decoder.feed(token));
                text.append(piece);
                if (!piece.isEmpty() && !sink.accept(piece)) {
                    reason = StopReason.CANCELLED;
                    break;
                }
                if (stops.stopped()) {
                    reason = StopReason.STOP_STRING;
                    break;
                }
            }
            if (json != null && json.complete()) {
                reason = StopReason.JSON_COMPLETE;
                break;
            }
        }
        if (decoder != null && reason != StopReason.CANCELLED && reason != StopReason.STOP_STRING) {
            String tail = stops.push(decoder.flush()) + stops.flush();
            text.append(tail);
            if (!tail.isEmpty()) {
                sink.accept(tail);
            }
        }
        long decode = System.nanoTime() - t0;
        return new GenerationResult(0, Arrays.copyOf(tokens, count), text.toString(), reason, 0, decode);
    }

    private int choose(Sampler sampler) {
        if (sampler == null) {
            model.griffin().kernels().argmax(lastLogits, argmax);
            int id = argmax[0];
            // Only the id crosses from the backend. NaN logits make argmax return 0 (<pad>), which a healthy model
            // practically never predicts: only then is the row downloaded and scanned.
            if (id <= 0 || id >= vocab || id == model.config().padId()) {
                backend.download(lastLogits, logitsRow);
                requireFinite(logitsRow);
            }
            return id;
        }
        if (sampler.deviceTopK() > 0) {
            // top-k sampling: only k ids and values cross from the backend, not the whole row
            oneSampler[0] = sampler;
            topK.sample(model.griffin().kernels(), lastLogits, oneSampler, picked);
            return picked[0];
        }
        backend.download(lastLogits, logitsRow);
        requireFinite(logitsRow);
        return sampler.sample(logitsRow, 0);
    }

    /** JSON mode: the whole row on the host, the tokens that cannot continue the object masked, then the draw. */
    private int chooseJson(Sampler sampler, JsonConstraint json) {
        backend.download(lastLogits, logitsRow);
        requireFinite(logitsRow);
        json.mask(logitsRow, 0, vocab);
        return sampler.sample(logitsRow, 0);
    }

    private static final String ADVICE = "; the weights or config.json are broken (`rg info --verify` scans the weights)"
            + " or the computation overflowed";

    private void requireFinite(float[] logits) {
        int bad = Finite.firstNonFinite(logits, 0, vocab);
        if (bad >= 0) {
            throw new NonFiniteException("the model computed " + Finite.describe(logits[bad]) + " logits at position "
                    + (state.position(0) - 1) + ADVICE);
        }
    }

    /** Releases the state. */
    @Override
    public void close() {
        releaseRestoredLogits();
        state.close();
    }
}
