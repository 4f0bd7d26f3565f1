package dev.rg.core.runtime;

import java.util.concurrent.CountDownLatch;
import java.util.function.IntConsumer;

/** The probes' way to run one piece of work on each of {@code threads} fresh platform threads and wait for all. */
final class ProbeThreads {
    private ProbeThreads() {}

    /** Runs {@code work.accept(t)} on thread {@code t} for every {@code t < threads}; returns when all have ended. */
    static void runOnEach(int threads, String name, IntConsumer work) {
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread.ofPlatform().daemon().name(name + "-" + t).start(() -> {
                try {
                    work.accept(id);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
