package dev.rg.backend.tornado;

import java.util.Map;
import java.util.TreeMap;

/**
 * First-fit allocation of float ranges in the device arena (host-side bookkeeping only: no TornadoVM). Ranges
 * are aligned to 16 floats (64 bytes); freed ranges coalesce with their neighbours.
 */
final class ArenaAllocator {
    static final int ALIGN = 16;

    private final TreeMap<Integer, Integer> free = new TreeMap<>();
    private int capacity;
    private long used;

    ArenaAllocator(int capacity) {
        this.capacity = capacity;
        if (capacity > 0) {
            free.put(0, capacity);
        }
    }

    static int aligned(long n) {
        long a = (n + ALIGN - 1) / ALIGN * ALIGN;
        if (a > Integer.MAX_VALUE - ALIGN) {
            throw new IllegalArgumentException("tensor of " + n + " floats is too large for the device arena");
        }
        return (int) a;
    }

    int capacity() {
        return capacity;
    }

    long used() {
        return used;
    }

    /** Offset of a free range of {@code n} floats (n &gt; 0), or -1 when none is large enough. */
    int allocate(long n) {
        int size = aligned(n);
        for (Map.Entry<Integer, Integer> e : free.entrySet()) {
            if (e.getValue() >= size) {
                int off = e.getKey();
                int rest = e.getValue() - size;
                free.remove(off);
                if (rest > 0) {
                    free.put(off + size, rest);
                }
                used += size;
                return off;
            }
        }
        return -1;
    }

    /** Returns a range obtained from {@link #allocate}. */
    void free(int offset, long n) {
        int size = aligned(n);
        used -= size;
        int start = offset;
        int len = size;
        Map.Entry<Integer, Integer> before = free.floorEntry(offset);
        if (before != null && before.getKey() + before.getValue() == offset) {
            start = before.getKey();
            len += before.getValue();
            free.remove(before.getKey());
        }
        Integer after = free.get(offset + size);
        if (after != null) {
            free.remove(offset + size);
            len += after;
        }
        free.put(start, len);
    }

    /** Extends the arena to {@code newCapacity} floats (the new tail is free). */
    void grow(int newCapacity) {
        if (newCapacity <= capacity) {
            return;
        }
        int old = capacity;
        capacity = newCapacity;
        Map.Entry<Integer, Integer> last = free.lastEntry();
        if (last != null && last.getKey() + last.getValue() == old) {
            free.put(last.getKey(), last.getValue() + newCapacity - old);
        } else {
            free.put(old, newCapacity - old);
        }
    }

    /** The end of the highest allocated range (what a smaller arena must keep). */
    int highWater() {
        Map.Entry<Integer, Integer> last = free.lastEntry();
        if (last != null && last.getKey() + last.getValue() == capacity) {
            return last.getKey();
        }
        return capacity;
    }
}
