package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The warm-up's stopping rule, with a compile-time counter the test controls (no clock decides anything here). */
class JitWarmUpTest {
    @Test
    void stopsAtTheFirstRunDuringWhichNothingWasCompiled() {
        AtomicInteger runs = new AtomicInteger();
        AtomicLong compileMillis = new AtomicLong();
        // compilations finish during the first five runs, none after
        JitWarmUp.Outcome o = JitWarmUp.run(() -> {
            if (runs.incrementAndGet() <= 5) {
                compileMillis.addAndGet(7);
            }
        }, 0, 30, 0, compileMillis::get);
        assertTrue(o.quiet());
        assertEquals(6, o.runs());
        assertEquals(6, runs.get());
    }

    @Test
    void runsAtLeastOnceAndStopsAtTheCapWhileStillCompiling() {
        AtomicLong compileMillis = new AtomicLong();
        JitWarmUp.Outcome o = JitWarmUp.run(compileMillis::incrementAndGet, 0, 0, 0, compileMillis::get);
        assertFalse(o.quiet(), "a compilation finished during the only run");
        assertEquals(1, o.runs());
        JitWarmUp.Outcome idle = JitWarmUp.run(() -> { }, 0, 0, 0, () -> 42L);
        assertTrue(idle.quiet());
        assertEquals(1, idle.runs());
    }
}
