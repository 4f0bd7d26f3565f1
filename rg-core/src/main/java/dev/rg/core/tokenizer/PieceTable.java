package dev.rg.core.tokenizer;

/**
 * An open-addressing hash table from piece string to id that looks up a char range of another string without
 * creating a substring. The BPE loop asks "is left+right a piece?" for millions of adjacent pairs, and a
 * substring per question would dominate the encoding time.
 */
final class PieceTable {
    private final String[] keys;
    private final int[] ids;
    private final int mask;
    private final int shift;
    private final int maxLength;

    /** A table of {@code pieces[id]} for every id where {@code include[id]}. */
    PieceTable(String[] pieces, boolean[] include) {
        int count = 0;
        int longest = 0;
        for (int id = 0; id < pieces.length; id++) {
            if (include[id]) {
                count++;
                longest = Math.max(longest, pieces[id].length());
            }
        }
        int capacity = Integer.highestOneBit(Math.max(4, count * 2 - 1)) << 1; // load factor <= 0.5
        keys = new String[capacity];
        ids = new int[capacity];
        mask = capacity - 1;
        shift = 32 - Integer.numberOfTrailingZeros(capacity);
        maxLength = longest;
        for (int id = 0; id < pieces.length; id++) {
            if (include[id]) {
                String key = pieces[id];
                int slot = slotOf(key.hashCode());
                while (keys[slot] != null && !keys[slot].equals(key)) {
                    slot = (slot + 1) & mask;
                }
                if (keys[slot] == null) { // the first id of a duplicate wins; duplicates are rejected elsewhere
                    keys[slot] = key;
                    ids[slot] = id;
                }
            }
        }
    }

    /** The id of the piece equal to {@code text[from, to)}, or -1. */
    int get(String text, int from, int to) {
        int length = to - from;
        if (length > maxLength || length <= 0) {
            return -1;
        }
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + text.charAt(i); // String.hashCode over the range
        }
        int slot = slotOf(h);
        while (true) {
            String key = keys[slot];
            if (key == null) {
                return -1;
            }
            if (key.length() == length && key.regionMatches(0, text, from, length)) {
                return ids[slot];
            }
            slot = (slot + 1) & mask;
        }
    }

    /**
     * Fibonacci hashing: hash codes of short pieces are small and close together ({@code 31*c1+c2}), which
     * would form long runs of occupied slots under linear probing if the low bits were used directly.
     */
    private int slotOf(int h) {
        return (h * 0x9E3779B9) >>> shift;
    }
}
