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
        maxLength = longest;
        for (int id = 0; id < pieces.length; id++) {
            if (include[id]) {
                String key = pieces[id];
                int slot = spread(key.hashCode()) & mask;
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
        int slot = spread(h) & mask;
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

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }
}
