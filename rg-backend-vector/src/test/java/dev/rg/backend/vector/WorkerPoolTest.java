package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkerPoolTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void everyUnitRunsExactlyOnce(int threads) {
        try (WorkerPool pool = new WorkerPool(threads, 10_000, "test")) {
            for (int round = 0; round < 2000; round++) {
                int n = 1 + round % 37;
                AtomicIntegerArray runs = new AtomicIntegerArray(n);
                pool.run((u, w) -> {
                    assertTrue(w >= 0 && w < threads);
                    runs.incrementAndGet(u);
                }, n);
                for (int u = 0; u < n; u++) {
                    assertEquals(1, runs.get(u), "unit " + u + " of " + n + " in round " + round);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void everyWorkerTakesPart(int threads) throws InterruptedException {
        // each unit waits until all threads hold one: only possible if the workers run units concurrently
        try (WorkerPool pool = new WorkerPool(threads, 10_000, "test")) {
            for (int round = 0; round < 3; round++) {
                CountDownLatch all = new CountDownLatch(threads);
                AtomicIntegerArray byWorker = new AtomicIntegerArray(threads);
                pool.run((u, w) -> {
                    byWorker.incrementAndGet(w);
                    all.countDown();
                    try {
                        assertTrue(all.await(10, TimeUnit.SECONDS), "the workers did not join");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }, threads);
                for (int w = 0; w < threads; w++) {
                    assertEquals(1, byWorker.get(w), "worker " + w);
                }
                Thread.sleep(5); // let the workers park between rounds: the wake-up path is exercised too
            }
        }
    }

    @Test
    void aFailingUnitIsRethrownAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(3, 10_000, "test")) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((u, w) -> {
                if (u == 5) {
                    throw boom;
                }
            }, 20));
            assertSame(boom, e);
            AtomicIntegerArray runs = new AtomicIntegerArray(8);
            pool.run((u, w) -> runs.incrementAndGet(u), 8);
            for (int u = 0; u < 8; u++) {
                assertEquals(1, runs.get(u));
            }
        }
    }

    @Test
    void closeStopsTheWorkers() throws InterruptedException {
        WorkerPool pool = new WorkerPool(3, 10_000, "closing");
        pool.run((u, w) -> { }, 10);
        Thread worker = pool.anyWorker();
        assertTrue(worker.isDaemon());
        assertTrue(worker.getName().startsWith("closing-"));
        pool.close();
        worker.join(5000);
        assertFalse(worker.isAlive());
        assertThrows(IllegalStateException.class, () -> pool.run((u, w) -> { }, 10));
    }
}
