package dev.rg.core.tokenizer;

import java.util.Arrays;

/**
 * A binary max-heap of candidate merges kept in parallel primitive arrays, so a megabyte of text does not
 * allocate millions of objects.
 *
 * <p>Order: higher score first; on equal scores the smaller {@code left} symbol index first. This is
 * SentencePiece's {@code SymbolPairComparator}. Scores compare as primitive floats, so {@code -0.0f == 0.0f}
 * as in C++ (Gemma's first merged piece has score -0.0).
 */
final class MergeQueue {
    private float[] score;
    private int[] left;
    private int[] right;
    private int[] size;
    private int count;

    MergeQueue(int initialCapacity) {
        int c = Math.max(16, initialCapacity);
        score = new float[c];
        left = new int[c];
        right = new int[c];
        size = new int[c];
    }

    boolean isEmpty() {
        return count == 0;
    }

    void push(float s, int l, int r, int sz) {
        if (count == score.length) {
            int c = count * 2;
            score = Arrays.copyOf(score, c);
            left = Arrays.copyOf(left, c);
            right = Arrays.copyOf(right, c);
            size = Arrays.copyOf(size, c);
        }
        int i = count++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(s, l, score[parent], left[parent])) {
                break;
            }
            move(parent, i);
            i = parent;
        }
        set(i, s, l, r, sz);
    }

    /** The top entry's left index; read the others before {@link #pop()}. */
    int topLeft() {
        return left[0];
    }

    int topRight() {
        return right[0];
    }

    int topSize() {
        return size[0];
    }

    void pop() {
        int last = --count;
        if (last == 0) {
            return;
        }
        float s = score[last];
        int l = left[last];
        int r = right[last];
        int sz = size[last];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= last) {
                break;
            }
            if (child + 1 < last && before(score[child + 1], left[child + 1], score[child], left[child])) {
                child++;
            }
            if (!before(score[child], left[child], s, l)) {
                break;
            }
            move(child, i);
            i = child;
        }
        set(i, s, l, r, sz);
    }

    /** Whether entry (s1, l1) is popped before (s2, l2). */
    private static boolean before(float s1, int l1, float s2, int l2) {
        return s1 > s2 || (s1 == s2 && l1 < l2);
    }

    private void move(int from, int to) {
        set(to, score[from], left[from], right[from], size[from]);
    }

    private void set(int i, float s, int l, int r, int sz) {
        score[i] = s;
        left[i] = l;
        right[i] = r;
        size[i] = sz;
    }
}
