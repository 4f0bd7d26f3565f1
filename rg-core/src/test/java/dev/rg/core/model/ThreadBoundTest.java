package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Thread counts beyond any machine are refused with one clear line before any thread or memory is taken. */
class ThreadBoundTest {
    @Test
    void absurdThreadCountsAreRefused() {
        for (int n : new int[] {Integer.MAX_VALUE, 10_000, LoadOptions.MAX_THREADS + 1, -1}) {
            String m = assertThrows(IllegalArgumentException.class, () -> LoadOptions.defaults().withThreads(n)).getMessage();
            assertTrue(m.startsWith("threads must be in [0, " + LoadOptions.MAX_THREADS + "]") && m.endsWith("got " + n), m);
        }
        assertEquals(LoadOptions.MAX_THREADS, LoadOptions.defaults().withThreads(LoadOptions.MAX_THREADS).threads());
    }
}
