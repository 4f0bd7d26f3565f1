package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.BackendOptions;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * More threads than cores: the pool parks idle threads at once instead of spinning (properties, not timings), and
 * absurd counts are refused before any thread or memory is taken.
 */
class OversubscribedPoolTest {
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    @Test
    void oversubscribedPoolsDoNotSpin() {
        assertEquals(0, WorkerPool.spinFor(CORES + 1, CORES, 50_000));
        assertEquals(50_000, WorkerPool.spinFor(CORES, CORES, 50_000));
        try (VectorBackend b = new VectorBackend(new BackendOptions(4 * CORES + 1, Map.of()))) {
            assertEquals(0, b.pool().spinNanos());
        }
        try (VectorBackend b = new VectorBackend(new BackendOptions(CORES, Map.of()))) {
            assertEquals(VectorBackend.DEFAULT_SPIN_NANOS, b.pool().spinNanos());
        }
    }

    @Test
    void anOversubscribedPoolStillRunsEveryUnit() {
        int threads = 8 * CORES;
        try (WorkerPool pool = new WorkerPool(threads, WorkerPool.spinFor(threads, CORES, 50_000), "over")) {
            for (int round = 0; round < 200; round++) {
                int n = 1 + round % 53;
                AtomicIntegerArray runs = new AtomicIntegerArray(n);
                pool.run((u, w) -> runs.incrementAndGet(u), n);
                for (int u = 0; u < n; u++) {
                    assertEquals(1, runs.get(u));
                }
            }
        }
    }

    @Test
    void absurdThreadCountsAreRefused() {
        String m = assertThrows(IllegalArgumentException.class, () -> new WorkerPool(Integer.MAX_VALUE, 0, "x")).getMessage();
        assertTrue(m.contains("1 to " + WorkerPool.MAX_THREADS), m);
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(WorkerPool.MAX_THREADS + 1, 0, "x"));
    }
}
