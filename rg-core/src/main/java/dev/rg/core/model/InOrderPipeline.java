package dev.rg.core.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Runs a function over a list on helper threads, a bounded window ahead, and hands each result to the caller in list
 * order, on the caller's thread: how a model's tensors are read and quantised on every core while they are loaded
 * onto a backend, or written to a file, in checkpoint order ({@link ModelAssembler}, {@link QuantizedCheckpointWriter}).
 *
 * <p>One daemon thread per core, up to {@link #MAX_HELPERS}; at most {@link #AHEAD_PER_THREAD} items per thread are
 * worked on ahead of the one being handed over, which bounds what is held besides the caller's own results. A failure
 * is the first in list order, thrown as the helper threw it; items still being worked on are waited for before
 * {@link #run} returns or throws, so that the caller may then close what they write into (an arena).
 */
final class InOrderPipeline {
    /** Items worked on ahead of the one being handed over, per helper thread: enough to keep every helper busy. */
    static final int AHEAD_PER_THREAD = 2;
    /** At most this many helper threads (beyond it the memory bus, not the cores, limits quantising). */
    static final int MAX_HELPERS = 8;

    private InOrderPipeline() {}

    /** {@code inOrder.accept(item, work.apply(item))} for every item, in list order; {@code work} runs on helpers. */
    static <T, R> void run(List<T> items, Function<T, R> work, BiConsumer<T, R> inOrder) {
        int helpers = Math.max(1, Math.min(MAX_HELPERS, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(helpers, r -> {
            Thread t = new Thread(r, "rg-convert");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<R>> ready = new ArrayList<>(items.size());
            int window = helpers * AHEAD_PER_THREAD;
            for (int i = 0; i < items.size(); i++) {
                while (ready.size() < items.size() && ready.size() < i + window) {
                    T next = items.get(ready.size());
                    ready.add(pool.submit(() -> work.apply(next)));
                }
                R result = await(ready.get(i));
                ready.set(i, null);
                inOrder.accept(items.get(i), result);
            }
        } finally {
            pool.shutdownNow();
            awaitQuietly(pool);
        }
    }

    /** The result, or the exception the work threw, as thrown there. */
    private static <R> R await(Future<R> f) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while converting tensors", e);
        }
    }

    /** Waits for work still running (a tensor's quantisation cannot be interrupted midway). */
    private static void awaitQuietly(ExecutorService pool) {
        boolean interrupted = false;
        while (true) {
            try {
                if (pool.awaitTermination(1, TimeUnit.DAYS)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
