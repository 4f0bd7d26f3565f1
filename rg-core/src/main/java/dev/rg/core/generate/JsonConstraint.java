package dev.rg.core.generate;

import dev.rg.core.tokenizer.GemmaTokenizer;


/**
 * JSON mode for one sequence: before each draw, every token whose text cannot continue the JSON object generated so far
 * is masked out of the logits ({@link #mask}), so whatever the sampler then picks keeps the text a prefix of a JSON
 * object; {@link #complete()} says when the object has closed (the sequence then ends). Sampling from the masked row is
 * sampling from the model's distribution restricted to the valid tokens, renormalised.
 *
 * <p>Cost per step: outside strings, a walk of the vocabulary's trie ({@link JsonTokens}) that stops at the first byte
 * the automaton refuses, so only the few tokens that may come are visited, and one fill of the row; inside a string
 * (most of a JSON text), where a token without a quote, backslash or control byte may always come, a test of only
 * the other tokens.
 */
public final class JsonConstraint {
    /** What a masked token's logit becomes: finite, so samplers that reject non-finite rows still run, and never drawn. */
    public static final float MASKED = -1e30f;

    private final JsonTokens tokens;
    private final JsonPrefix state = new JsonPrefix();
    private final JsonPrefix trial = new JsonPrefix();
    private final JsonTokens.Walk walk;
    private int[] valid = new int[0];
    private float[] kept = new float[0];

    public JsonConstraint(JsonTokens tokens) {
        this.tokens = tokens;
        this.walk = tokens.newWalk();
    }

    /**
     * JSON mode over {@code tokenizer}'s vocabulary (its trie built once, {@link JsonTokens#of}).
     *
     * @throws IllegalStateException without a tokenizer
     */
    public static JsonConstraint of(GemmaTokenizer tokenizer) {
        if (tokenizer == null) {
            throw new IllegalStateException("JSON mode needs the model's tokenizer");
        }
        return new JsonConstraint(JsonTokens.of(tokenizer));
    }

    /** Whether {@code token} may come next (never one past the tokenizer's vocabulary: it has no text). */
    public boolean allows(int token) {
        byte[] b = tokens.bytes(token);
        if (b == null || state.complete()) {
            return false;
        }
        if (state.inPlainString() && tokens.plainInString(token)) {
            return true;
        }
        trial.copyFrom(state);
        return trial.feed(b);
    }

    /**
     * Sets the logit of every token that may not come next to {@link #MASKED}, in {@code logits[offset, offset + vocab)}
     * ({@code vocab}: the model's, which may exceed the tokenizer's).
     *
     * @throws IllegalStateException if no token may come next (the vocabulary cannot continue the text)
     */
    public void mask(float[] logits, int offset, int vocab) {
        if (state.inPlainString()) {
            // inside a string every token a string takes whole may come: only the others need a test
            for (int t : tokens.notPlainInString()) {
                if (t >= vocab) {
                    break;
                }
                if (!allows(t)) {
                    logits[offset + t] = MASKED;
                }
            }
            if (tokens.size() < vocab) {
                java.util.Arrays.fill(logits, offset + tokens.size(), offset + vocab, MASKED);
            }
            return;
        }
        // elsewhere few tokens may come: find them in the trie, keep their logits, mask the whole row, put them back
        if (valid.length < tokens.size()) {
            valid = new int[tokens.size()];
            kept = new float[tokens.size()];
        }
        int n = state.complete() ? 0 : tokens.collectValid(state, walk, valid);
        if (n == 0) {
            throw new IllegalStateException("no token of the vocabulary can continue the JSON text");
        }
        for (int i = 0; i < n; i++) {
            kept[i] = valid[i] < vocab ? logits[offset + valid[i]] : MASKED;
        }
        java.util.Arrays.fill(logits, offset, offset + vocab, MASKED);
        for (int i = 0; i < n; i++) {
            if (valid[i] < vocab) {
                logits[offset + valid[i]] = kept[i];
            }
        }
    }

    /**
     * Appends the chosen token.
     *
     * @throws IllegalArgumentException if it may not come next
     */
    public void accept(int token) {
        if (!allows(token)) {
            throw new IllegalArgumentException("token " + token + " cannot continue the JSON text");
        }
        byte[] b = tokens.bytes(token);
        if (!(state.inPlainString() && tokens.plainInString(token))) {
            state.feed(b);
        }
    }

    /** Feeds bytes straight into the automaton, as if tokens with them had been accepted (tests reach any state). */
    boolean feedForTest(byte[] bytes) {
        return state.feed(bytes);
    }

    /** Whether the object has closed. */
    public boolean complete() {
        return state.complete();
    }
}
