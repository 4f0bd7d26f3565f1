package dev.rg.core.generate;

import dev.rg.core.tokenizer.GemmaTokenizer;
import dev.rg.core.tokenizer.PieceType;

/**
 * JSON mode for one sequence: before each draw, every token whose text cannot continue the JSON object generated so far
 * is masked out of the logits ({@link #mask}), so whatever the sampler then picks keeps the text a prefix of a JSON
 * object; {@link #complete()} says when the object has closed (the sequence then ends). Sampling from the masked row is
 * sampling from the model's distribution restricted to the valid tokens, renormalised.
 *
 * <p>Cost: one pass over the vocabulary per step. Most tokens are settled by their first byte; inside a string (most of
 * a JSON text) a token without a quote, backslash or control byte is valid without being fed ({@link Tokens}).
 */
public final class JsonConstraint {
    /** What a masked token's logit becomes: finite, so samplers that reject non-finite rows still run, and never drawn. */
    public static final float MASKED = -1e30f;

    /** The tokens' bytes, computed once per tokenizer and shared by every constrained sequence. */
    public static final class Tokens {
        private final byte[][] bytes; // null: never allowed (control, unknown, unused pieces)
        private final boolean[] plainInString;

        public Tokens(GemmaTokenizer tokenizer) {
            int n = tokenizer.vocabSize();
            bytes = new byte[n][];
            plainInString = new boolean[n];
            for (int id = 0; id < n; id++) {
                PieceType type = tokenizer.pieceType(id);
                if (type == PieceType.NORMAL || type == PieceType.BYTE || type == PieceType.USER_DEFINED) {
                    byte[] b = tokenizer.tokenBytes(id);
                    if (b.length > 0) {
                        bytes[id] = b;
                        plainInString[id] = plain(b);
                    }
                }
            }
        }

        public int size() {
            return bytes.length;
        }

        private static boolean plain(byte[] b) {
            for (byte x : b) {
                int c = x & 0xFF;
                if (c == '"' || c == '\\' || c < 0x20) {
                    return false;
                }
            }
            return true;
        }
    }

    private final Tokens tokens;
    private final JsonPrefix state = new JsonPrefix();
    private final JsonPrefix trial = new JsonPrefix();

    public JsonConstraint(Tokens tokens) {
        this.tokens = tokens;
    }

    /** Whether {@code token} may come next (never one past the tokenizer's vocabulary: it has no text). */
    public boolean allows(int token) {
        if (token < 0 || token >= tokens.size()) {
            return false;
        }
        byte[] b = tokens.bytes[token];
        if (b == null || state.complete()) {
            return false;
        }
        if (state.inPlainString() && tokens.plainInString[token]) {
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
        boolean any = false;
        for (int t = 0; t < vocab; t++) {
            if (allows(t)) {
                any = true;
            } else {
                logits[offset + t] = MASKED;
            }
        }
        if (!any) {
            throw new IllegalStateException("no token of the vocabulary can continue the JSON text");
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
        byte[] b = tokens.bytes[token];
        if (!(state.inPlainString() && tokens.plainInString[token])) {
            state.feed(b);
        }
    }

    /** Whether the object has closed. */
    public boolean complete() {
        return state.complete();
    }
}
