package dev.rg.spark;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.PromptPrefix;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * Processed prompt prefixes that one executor keeps, per model and text: each built once by the first task that needs
 * it (concurrent first users wait for that one build) and shared by every later task; at most {@code max} of them,
 * never evicted, since a task may be continuing one at any moment.
 *
 * <p>The bound is exact: a build first claims one of the {@code max} slots inside the map's own computation, so tasks
 * that start together cannot each add one more after a size check (the bound was once 16 plus the executor's
 * concurrent tasks for that reason).
 */
final class PromptPrefixCache implements AutoCloseable {
    private record Key(RecurrentGemma model, String text) {}

    private final ConcurrentMap<Key, PromptPrefix> kept = new ConcurrentHashMap<>();
    /** Slots claimed by kept prefixes and by builds under way: never above {@link #max}. */
    private final AtomicInteger slots = new AtomicInteger();
    private final AtomicInteger builds = new AtomicInteger();
    private final int max;
    private final BiFunction<RecurrentGemma, String, PromptPrefix> builder;

    /** @param builder processes a prefix (its result is kept until {@link #close}) */
    PromptPrefixCache(int max, BiFunction<RecurrentGemma, String, PromptPrefix> builder) {
        if (max < 0) {
            throw new IllegalArgumentException("a prompt-prefix cache keeps at least 0 prefixes, got " + max);
        }
        this.max = max;
        this.builder = builder;
    }

    /** The kept prefix {@code text} on {@code rg}, built now if there is a free slot; null when all slots are taken. */
    PromptPrefix get(RecurrentGemma rg, String text) {
        Key key = new Key(rg, text);
        PromptPrefix p = kept.get(key);
        if (p != null || slots.get() >= max) {
            return p;
        }
        return kept.computeIfAbsent(key, k -> {
            if (slots.getAndUpdate(n -> n < max ? n + 1 : n) >= max) {
                return null; // full: nothing is mapped, the caller builds its own
            }
            boolean built = false;
            try {
                builds.incrementAndGet();
                PromptPrefix b = builder.apply(rg, text);
                built = b != null;
                return b;
            } finally {
                if (!built) {
                    slots.decrementAndGet(); // a prompt that fails to process keeps no slot
                }
            }
        });
    }

    /** Prefixes built so far (tests check that tasks share one). */
    int builds() {
        return builds.get();
    }

    /** Prefixes kept now. */
    int size() {
        return kept.size();
    }

    /** Closes every kept prefix and forgets it (an executor's cache is never closed: it ends with the JVM). */
    @Override
    public void close() {
        for (Key k : kept.keySet()) {
            PromptPrefix p = kept.remove(k);
            if (p != null) {
                p.close();
                slots.decrementAndGet();
            }
        }
    }
}
