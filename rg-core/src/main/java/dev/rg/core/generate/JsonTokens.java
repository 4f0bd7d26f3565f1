package dev.rg.core.generate;

import dev.rg.core.tokenizer.GemmaTokenizer;
import dev.rg.core.tokenizer.PieceType;
import java.util.Arrays;

/**
 * A vocabulary's token bytes as JSON mode needs them, built once per tokenizer and shared by every constrained
 * sequence: per token its bytes and whether a string takes it whole (no quote, backslash or control byte; the others
 * are listed, so that inside a string only they need a test), and a trie
 * of all tokens' bytes, so that the tokens that may come next outside a string are found by walking the trie and
 * stopping at the first byte the JSON automaton refuses ({@link #collectValid}) instead of trying every token.
 */
public final class JsonTokens {
    private final byte[][] bytes; // null: never allowed (control, unknown, unused pieces)
    private final boolean[] plainInString;
    private final int[] notPlain; // the tokens a string does not take whole: no text, or a quote, backslash or control byte
    private final int maxLength;
    // the trie: node 0 is the root; children are a linked list (firstChild, nextSibling), label = the byte into a node
    private final int[] firstChild;
    private final int[] nextSibling;
    private final byte[] label;
    private final int[] firstToken; // a token whose bytes end at the node, -1 if none
    private final int[] sameBytes; // per token: the next token with the same bytes, -1 if none

    private static final java.util.Map<GemmaTokenizer, JsonTokens> BUILT = new java.util.WeakHashMap<>();

    /** The tokenizer's pieces that stand for text (normal, byte and user-defined pieces). */
    public JsonTokens(GemmaTokenizer tokenizer) {
        this(textOf(tokenizer));
    }

    /** {@code tokenizer}'s, built once and kept while the tokenizer lives (a 256,000-token trie takes a moment to build). */
    public static JsonTokens of(GemmaTokenizer tokenizer) {
        synchronized (BUILT) {
            return BUILT.computeIfAbsent(tokenizer, JsonTokens::new);
        }
    }

    /** Tokens with these bytes ({@code null}: never allowed). */
    public JsonTokens(byte[][] tokenBytes) {
        int n = tokenBytes.length;
        bytes = new byte[n][];
        plainInString = new boolean[n];
        sameBytes = new int[n];
        Arrays.fill(sameBytes, -1);
        long total = 1;
        int longest = 0;
        int count = 0;
        Integer[] order = new Integer[n];
        for (int id = 0; id < n; id++) {
            byte[] b = tokenBytes[id];
            if (b != null && b.length > 0) {
                bytes[id] = b;
                plainInString[id] = plain(b);
                total += b.length;
                longest = Math.max(longest, b.length);
                order[count++] = id;
            }
        }
        maxLength = longest;
        int[] special = new int[n];
        int specials = 0;
        for (int id = 0; id < n; id++) {
            if (!plainInString[id]) {
                special[specials++] = id;
            }
        }
        notPlain = Arrays.copyOf(special, specials);
        Integer[] ids = Arrays.copyOf(order, count);
        // sorted, each token shares the trie path of its longest common prefix with the one before
        Arrays.sort(ids, (a, b) -> Arrays.compareUnsigned(bytes[a], bytes[b]));
        int cap = Math.toIntExact(total);
        int[] child = new int[cap];
        int[] sibling = new int[cap];
        byte[] labels = new byte[cap];
        int[] tokenAt = new int[cap];
        Arrays.fill(child, -1);
        Arrays.fill(tokenAt, -1);
        int nodes = 1;
        int[] path = new int[longest + 1]; // path[d]: the previous token's node at depth d (path[0] = root)
        byte[] previous = new byte[0];
        for (int id : ids) {
            byte[] b = bytes[id];
            int common = Arrays.mismatch(previous, b);
            if (common < 0) {
                common = b.length; // the same bytes as the previous token
            }
            for (int d = common; d < b.length; d++) {
                int node = nodes++;
                labels[node] = b[d];
                sibling[node] = child[path[d]];
                child[path[d]] = node;
                path[d + 1] = node;
            }
            int end = path[b.length];
            sameBytes[id] = tokenAt[end];
            tokenAt[end] = id;
            previous = b;
        }
        firstChild = Arrays.copyOf(child, nodes);
        nextSibling = Arrays.copyOf(sibling, nodes);
        label = Arrays.copyOf(labels, nodes);
        firstToken = Arrays.copyOf(tokenAt, nodes);
    }

    private static byte[][] textOf(GemmaTokenizer tokenizer) {
        byte[][] out = new byte[tokenizer.vocabSize()][];
        for (int id = 0; id < out.length; id++) {
            PieceType type = tokenizer.pieceType(id);
            if (type == PieceType.NORMAL || type == PieceType.BYTE || type == PieceType.USER_DEFINED) {
                out[id] = tokenizer.tokenBytes(id);
            }
        }
        return out;
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

    /** Tokens, allowed or not. */
    public int size() {
        return bytes.length;
    }

    /** Nodes of the trie (the root included). */
    public int trieNodes() {
        return label.length;
    }

    byte[] bytes(int token) {
        return token >= 0 && token < bytes.length ? bytes[token] : null;
    }

    boolean plainInString(int token) {
        return plainInString[token];
    }

    /** The tokens a string does not take whole (no text, or a quote, backslash or control byte), ascending. */
    int[] notPlainInString() {
        return notPlain;
    }

    /** A work area for {@link #collectValid}: one automaton state per trie depth. */
    final class Walk {
        private final JsonPrefix[] states = new JsonPrefix[maxLength + 2];

        Walk() {
            for (int d = 0; d < states.length; d++) {
                states[d] = new JsonPrefix();
            }
        }
    }

    Walk newWalk() {
        return new Walk();
    }

    /**
     * Puts into {@code out} the tokens whose bytes {@code state} accepts whole, and returns how many ({@code out} has room
     * for every token). Only the trie paths that stay valid are walked.
     */
    int collectValid(JsonPrefix state, Walk w, int[] out) {
        w.states[0].copyFrom(state);
        return walk(0, 0, w, out, 0);
    }

    /** Depth-first below {@code node}, whose bytes left the automaton in {@code w.states[depth]}. */
    private int walk(int node, int depth, Walk w, int[] out, int found) {
        JsonPrefix at = w.states[depth];
        JsonPrefix next = w.states[depth + 1];
        for (int c = firstChild[node]; c >= 0; c = nextSibling[c]) {
            next.copyFrom(at);
            if (!next.feed(label[c] & 0xFF)) {
                continue; // no token below c can come next
            }
            for (int t = firstToken[c]; t >= 0; t = sameBytes[t]) {
                out[found++] = t;
            }
            if (firstChild[c] >= 0) {
                found = walk(c, depth + 1, w, out, found); // uses states[depth + 2] and up; next stays c's state
            }
        }
        return found;
    }
}
