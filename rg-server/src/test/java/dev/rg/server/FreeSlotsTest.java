package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.core.RecurrentGemma;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A batch of {@code /v1/batches} yields to clients: {@link Scheduler#submitIntoFreeSlots} queues a request only into
 * slots that no running or waiting request holds, so it never takes a client's place in the queue.
 */
class FreeSlotsTest {
    private static List<CompletionRequest> parse(RequestParser p, String body) {
        return p.parse(body.getBytes(StandardCharsets.UTF_8), false);
    }

    @Test
    void aBatchRequestTakesOnlySlotsThatNobodyHoldsOrWaitsFor() throws Exception {
        try (RecurrentGemma rg = TestServers.austenModel()) {
            ServerOptions options = ServerOptions.defaults(TestServers.MODEL).withLimits(2, 4);
            RequestParser parser = new RequestParser(new ObjectMapper(), rg.tokenizer(), options, false);
            String endless = "{\"prompt\":\"It is a truth\",\"max_tokens\":1000000,\"ignore_eos\":true,\"temperature\":0}";
            String shortOne = "{\"prompt\":\"Good morning\",\"max_tokens\":2,\"temperature\":0}";
            try (Scheduler s = new Scheduler(rg.model(), rg.tokenizer(), options, new ServerMetrics())) {
                List<Generation> first = s.submit(parse(parser, endless));
                List<Generation> second = s.submit(parse(parser, endless));
                assertNull(s.submitIntoFreeSlots(parse(parser, shortOne)), "both slots are held");
                assertNotNull(s.submit(parse(parser, shortOne)), "a client's request still queues");

                first.forEach(Generation::cancel);
                s.wake();
                // the freed slot goes to the client's waiting request, not to the batch
                assertNull(s.submitIntoFreeSlots(parse(parser, shortOne)), "the client's request waits for the freed slot");

                long deadline = System.nanoTime() + 60_000_000_000L; // the client's request ends after two tokens
                List<Generation> batch = null;
                while (batch == null && System.nanoTime() < deadline) {
                    batch = s.submitIntoFreeSlots(parse(parser, shortOne));
                    Thread.sleep(10);
                }
                assertNotNull(batch, "once the client's request has left, the batch takes the free slot");
                second.forEach(Generation::cancel);
                batch.forEach(Generation::cancel);
                s.wake();
            }
        }
    }

    @Test
    void withBatchWhenIdleABatchRequestWaitsForEveryClientToLeave() throws Exception {
        try (RecurrentGemma rg = TestServers.austenModel()) {
            ServerOptions options = ServerOptions.defaults(TestServers.MODEL).withLimits(4, 4).withBatchWhenIdle(true);
            RequestParser parser = new RequestParser(new ObjectMapper(), rg.tokenizer(), options, false);
            String endless = "{\"prompt\":\"It is a truth\",\"max_tokens\":1000000,\"ignore_eos\":true,\"temperature\":0}";
            String shortOne = "{\"prompt\":\"Good morning\",\"max_tokens\":2,\"temperature\":0}";
            try (Scheduler s = new Scheduler(rg.model(), rg.tokenizer(), options, new ServerMetrics())) {
                List<Generation> batchFirst = s.submitWhenIdle(parse(parser, endless));
                assertNotNull(batchFirst, "nobody runs: the batch starts");
                List<Generation> client = s.submit(parse(parser, endless));
                assertNull(s.submitWhenIdle(parse(parser, shortOne)), "a client waits or runs: no batch request starts,"
                        + " though two slots are free");
                assertNotNull(s.submitIntoFreeSlots(parse(parser, shortOne)), "without --batch-when-idle it would");

                client.forEach(Generation::cancel);
                s.wake();
                long deadline = System.nanoTime() + 60_000_000_000L; // counted again at the scheduler's next iteration
                List<Generation> next = null;
                while (next == null && System.nanoTime() < deadline) {
                    next = s.submitWhenIdle(parse(parser, shortOne));
                    Thread.sleep(10);
                }
                assertNotNull(next, "once the client has left, the batch starts requests again, beside its own");
                batchFirst.forEach(Generation::cancel);
                s.wake();
            }
        }
    }
}
