package dev.rg.core.tokenizer;

import java.util.Arrays;

/** A growable {@code int} list, so encoders can emit ids without boxing. */
final class IntBuffer {
    private int[] data;
    private int size;

    IntBuffer(int initialCapacity) {
        data = new int[Math.max(4, initialCapacity)];
    }

    void add(int value) {
        if (size == data.length) {
            data = Arrays.copyOf(data, data.length * 2);
        }
        data[size++] = value;
    }

    int size() {
        return size;
    }

    int get(int index) {
        return data[index];
    }

    int last() {
        return data[size - 1];
    }

    void clear() {
        size = 0;
    }

    int[] toArray() {
        return Arrays.copyOf(data, size);
    }
}
