package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.generate.SamplingParams;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * The bound on a request's wait for its next event ({@link Replies#next}) counts from the last event or the last time
 * the scheduler advanced its prompt, so a prompt that takes longer than the limit to prefill is served while a request
 * that nothing moves is dropped. A clock given by the test stands for the minutes.
 */
class StallLimitTest {
    private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);

    private static List<Generation> request() {
        CompletionRequest r = new CompletionRequest(false, new int[] {2, 651, 603}, 4, SamplingParams.greedy(), 0, 0, List.of(),
                false, false, false, false, 0, false, LogitBias.parse(null, 256_000), 1, false, new int[0]);
        return Generation.choices(List.of(r));
    }

    @Test
    void aRequestThatNothingMovesIsDroppedAfterTheLimit() {
        List<Generation> choices = request();
        long base = System.nanoTime();
        AtomicInteger reads = new AtomicInteger();
        LongSupplier clock = () -> reads.getAndIncrement() == 0 ? base : base + 11 * MINUTE;
        Generation.Choice c = Replies.next(choices, 10 * MINUTE, clock);
        Generation.Failed f = assertInstanceOf(Generation.Failed.class, c.event());
        assertEquals("the request made no progress for 10 minutes; it was dropped", f.error().getMessage());
        assertEquals(500, f.error().status());
    }

    @Test
    void aPromptThatKeepsAdvancingIsNotDroppedHoweverLongItTakes() {
        List<Generation> choices = request();
        Generation g = choices.get(0);
        long base = System.nanoTime();
        AtomicInteger reads = new AtomicInteger();
        // each read is 6 minutes later, and the prompt advanced just before it; after the fourth, the first token comes
        LongSupplier clock = () -> {
            int k = reads.getAndIncrement();
            g.progressedAt(base + k * 6 * MINUTE - 1);
            if (k == 4) {
                g.emit(new Generation.Text("x"));
            }
            return base + k * 6 * MINUTE;
        };
        Generation.Choice c = Replies.next(choices, 10 * MINUTE, clock);
        assertEquals(new Generation.Text("x"), c.event());
        assertTrue(reads.get() >= 5, "it waited 24 minutes of the test's clock: " + reads.get() + " reads");
    }
}
