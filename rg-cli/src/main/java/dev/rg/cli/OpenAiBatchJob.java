package dev.rg.cli;

import dev.rg.server.OpenAiBatch;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.LongConsumer;

/**
 * {@code rg batch} on an OpenAI Batch API input file: each line a request ({@code custom_id}, {@code url},
 * {@code body}) answered by {@code rg serve}'s own parser and scheduler in process ({@link OpenAiBatch}), one output
 * line per input line in OpenAI's batch output format, in input order. Up to {@code sequences} sequences run at once
 * (a request with {@code n} choices or several prompts holds as many); requests that finish early wait, bounded as in
 * {@link BatchJob}, until the lines before them are written.
 */
final class OpenAiBatchJob implements RowJob {
    /** Longest wait for the scheduler to free the room of finished requests (it takes a step at most). */
    private static final long ROOM_WAIT_LIMIT_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

    private final OpenAiBatch batch;
    private final int sequences;

    OpenAiBatchJob(OpenAiBatch batch, int sequences) {
        this.batch = batch;
        this.sequences = sequences;
    }

    @Override
    public boolean produced(JsonlLines.Line line, String keptRow) {
        return batch.answers(line.number(), line.text(), keptRow);
    }

    /** A request that finished on the scheduler: its place in the output, the sequences it held, its result. */
    private record Finished(long index, int sequences, OpenAiBatch.Result result) {}

    @Override
    public Totals run(JsonlLines in, Sink out, LongConsumer progress) {
        BlockingQueue<Finished> finished = new LinkedBlockingQueue<>();
        Tally tally = new Tally();
        InOrderRows<OpenAiBatch.Result> ordered = new InOrderRows<>(r -> tally.add(r) && out.write(r.line()), progress);
        OpenAiBatch.Request next = null; // read, not yet queued: it waits for room
        long nextIndex = -1; // the index of next
        int running = 0;
        boolean exhausted = false;
        long refusedSince = 0; // when the scheduler first had no room for a request while none of ours ran

        while (!ordered.stopped()) {
            while (!ordered.stopped()) {
                if (next == null) {
                    if (exhausted || ordered.full(sequences)) {
                        break;
                    }
                    JsonlLines.Line line = in.next();
                    if (line == null) {
                        exhausted = true;
                        break;
                    }
                    long index = ordered.read(line.text() == null ? 0 : line.text().length());
                    if (line.error() != null) {
                        ordered.finish(index, batch.unreadable(line.number(), line.error()));
                        continue;
                    }
                    next = batch.parse(line.number(), line.text());
                    nextIndex = index;
                    if (next.result() != null) {
                        ordered.finish(index, next.result());
                        next = null;
                        continue;
                    }
                }
                int size = next.sequences();
                if (running > 0 && running + size > sequences) {
                    break; // no room until a running request finishes
                }
                long index = nextIndex;
                if (!batch.submit(next, r -> finished.add(new Finished(index, size, r)))) {
                    if (running > 0) {
                        break; // the scheduler frees a request's room as it finishes: wait for the next to finish
                    }
                    // nothing runs: the last request to finish is still leaving the scheduler
                    refusedSince = refusedSince == 0 ? System.nanoTime() : refusedSince;
                    awaitRoom(refusedSince);
                    continue;
                }
                refusedSince = 0;
                running += size;
                next = null;
            }
            if (running == 0) {
                if (exhausted && next == null) {
                    break; // every row is written: with nothing running, none waits
                }
                continue; // nothing to wait for: read or submit on
            }
            Finished f = take(finished);
            running -= f.sequences();
            ordered.finish(f.index(), f.result());
        }
        return new Totals(ordered.written(), tally.errors, tally.promptTokens, tally.cachedTokens, tally.completionTokens,
                ordered.stopped());
    }

    /**
     * Waits a moment for the scheduler to free the room of requests that have all finished (it counts a sequence until
     * its row has left the batch, just after its result is out).
     */
    private static void awaitRoom(long since) {
        if (System.nanoTime() - since > ROOM_WAIT_LIMIT_NANOS) {
            throw new IllegalStateException("the scheduler has had no room for a request for a minute although none runs");
        }
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the scheduler", e);
        }
    }

    private static Finished take(BlockingQueue<Finished> finished) {
        try {
            return finished.take(); // every queued request is answered: Replies bounds each wait for a token
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while requests were running", e);
        }
    }

    /** The errors and tokens of the lines written. */
    private static final class Tally {
        long errors;
        long promptTokens;
        long completionTokens;
        long cachedTokens;

        boolean add(OpenAiBatch.Result r) {
            errors += r.failed() ? 1 : 0;
            promptTokens += r.promptTokens();
            cachedTokens += r.cachedTokens();
            completionTokens += r.completionTokens();
            return true;
        }
    }
}
