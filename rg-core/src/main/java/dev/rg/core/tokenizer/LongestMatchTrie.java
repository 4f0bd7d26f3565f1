package dev.rg.core.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Finds the longest of a fixed set of strings that starts at a given position, in time proportional to the
 * length matched. Used for SentencePiece's user-defined pieces and for HF added tokens; both are matched
 * greedily, longest first.
 *
 * <p>The trie walks UTF-16 chars. Patterns are valid strings and matches start at code point boundaries, so a
 * match can never split a surrogate pair.
 */
final class LongestMatchTrie {
    private final Map<Long, Integer> edges = new HashMap<>();
    private int[] terminalId = new int[16];
    private int nodeCount = 1;
    private final boolean[] firstChar = new boolean[65536];
    private boolean empty = true;

    LongestMatchTrie() {
        Arrays.fill(terminalId, -1);
    }

    /** Adds {@code pattern} with its id; an existing identical pattern keeps its first id. */
    void add(String pattern, int id) {
        if (pattern.isEmpty()) {
            throw new IllegalArgumentException("empty pattern");
        }
        int node = 0;
        for (int i = 0; i < pattern.length(); i++) {
            long key = edgeKey(node, pattern.charAt(i));
            Integer child = edges.get(key);
            if (child == null) {
                child = newNode();
                edges.put(key, child);
            }
            node = child;
        }
        if (terminalId[node] < 0) {
            terminalId[node] = id;
        }
        firstChar[pattern.charAt(0)] = true;
        empty = false;
    }

    boolean isEmpty() {
        return empty;
    }

    /**
     * The longest pattern that starts at {@code from} in {@code text}, packed as {@code length << 32 | id}, or
     * -1 when none does. Decode with {@link #length(long)} and {@link #id(long)}.
     */
    long longestMatch(String text, int from) {
        if (from >= text.length() || !firstChar[text.charAt(from)]) {
            return -1;
        }
        long best = -1;
        int node = 0;
        for (int i = from; i < text.length(); i++) {
            Integer child = edges.get(edgeKey(node, text.charAt(i)));
            if (child == null) {
                break;
            }
            node = child;
            if (terminalId[node] >= 0) {
                best = (long) (i + 1 - from) << 32 | terminalId[node];
            }
        }
        return best;
    }

    static int length(long match) {
        return (int) (match >>> 32);
    }

    static int id(long match) {
        return (int) match;
    }

    private int newNode() {
        if (nodeCount == terminalId.length) {
            int old = terminalId.length;
            terminalId = Arrays.copyOf(terminalId, old * 2);
            Arrays.fill(terminalId, old, terminalId.length, -1);
        }
        return nodeCount++;
    }

    private static long edgeKey(int node, char c) {
        return (long) node << 16 | c;
    }
}
