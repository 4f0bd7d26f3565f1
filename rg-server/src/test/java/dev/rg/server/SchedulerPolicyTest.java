package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The scheduler's prefill budget and burst wait, as functions of their inputs (no clock involved). */
class SchedulerPolicyTest {

    @Test
    void theWholeChunkWhileNobodyDecodesElseAboutTwiceTheBatch() {
        assertEquals(256, Scheduler.prefillBudget(256, 0), "nobody decoding: the whole chunk");
        assertEquals(Scheduler.MIN_PREFILL_WHILE_DECODING, Scheduler.prefillBudget(256, 3), "small batches: the floor");
        assertEquals(2 * 13, Scheduler.prefillBudget(256, 13));
        assertEquals(200, Scheduler.prefillBudget(200, 150), "never beyond --prefill-chunk");
        assertEquals(8, Scheduler.prefillBudget(8, 16));
    }

    @Test
    void aBurstWaitsHalfAPrefillRoundAtMostTheCap() {
        assertEquals(TimeUnit.MILLISECONDS.toNanos(20), Scheduler.gatherNanos(40e6));
        assertEquals(0, Scheduler.gatherNanos(0));
        assertEquals(Scheduler.MAX_GATHER_NANOS, Scheduler.gatherNanos(3e9), "a slow round waits at most the cap");
        assertEquals(Scheduler.MAX_GATHER_NANOS, Scheduler.gatherNanos(Double.NaN), "before the first round: the cap");
        assertEquals(TimeUnit.MILLISECONDS.toNanos(5), Scheduler.quietNanos(TimeUnit.MILLISECONDS.toNanos(20)),
                "a lone request waits a quarter of the window");
    }
}
