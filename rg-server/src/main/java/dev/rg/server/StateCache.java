package dev.rg.server;

import dev.rg.core.model.ModelState;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * Kept conversation states, keyed by the token prefix each represents, least recently used first out, bounded
 * in bytes. A RecurrentGemma state is fixed-size, so a finished chat turn costs one state however long the
 * conversation was; the next turn resumes from it and prefills only its new tokens. Used by the scheduler
 * thread only.
 */
final class StateCache implements AutoCloseable {
    /** A resumable state and the tokens it has processed. */
    record Entry(int[] key, ModelState state) {}

    private final long maxBytes;
    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    private record Key(int[] ids) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(ids, k.ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }
    }

    StateCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    boolean enabled() {
        return maxBytes > 0;
    }

    /** The entry with the longest key that is a proper prefix of {@code prompt} (so one token at least is left to feed), or null. */
    Entry longestPrefix(int[] prompt) {
        Entry best = null;
        for (Entry e : entries.values()) {
            int n = e.key.length;
            if (n < prompt.length && (best == null || n > best.key.length)
                    && Arrays.equals(e.key, 0, n, prompt, 0, n)) {
                best = e;
            }
        }
        if (best != null) {
            entries.get(new Key(best.key)); // touch: most recently used
        }
        return best;
    }

    /** Keeps {@code state} (taking ownership) as the state after {@code key}; evicts the least recently used beyond the budget. */
    void put(int[] key, ModelState state) {
        long size = state.stateBytes();
        if (size > maxBytes) {
            state.close();
            return;
        }
        Entry old = entries.remove(new Key(key));
        if (old != null) {
            bytes -= old.state.stateBytes();
            old.state.close();
        }
        entries.put(new Key(key.clone()), new Entry(key.clone(), state));
        bytes += size;
        Iterator<Entry> it = entries.values().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            Entry e = it.next();
            it.remove();
            bytes -= e.state.stateBytes();
            e.state.close();
        }
    }

    long bytes() {
        return bytes;
    }

    int size() {
        return entries.size();
    }

    @Override
    public void close() {
        for (Entry e : entries.values()) {
            e.state.close();
        }
        entries.clear();
        bytes = 0;
    }
}
