package dev.rg.cli;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Rows that finish out of order, written in input order: each gets its index when read and is written once it and every
 * row before it are done. What waits is bounded ({@link RowJob#MAX_WAITING_ROWS}, {@link RowJob#MAX_WAITING_BYTES}):
 * the job reads no more while {@link #full}. Both forms of {@code rg batch} write through it.
 *
 * @param <T> a finished row
 */
final class InOrderRows<T> {
    /** Writes a finished row and counts it; false once the reader has gone away. */
    interface Writer<T> {
        boolean write(T row);
    }

    private final Writer<T> writer;
    private final LongConsumer progress;
    private final Map<Long, Integer> readBytes = new HashMap<>();
    private final Map<Long, T> done = new HashMap<>();
    private long nextIndex;
    private long nextWrite;
    private long waitingBytes;
    private boolean stopped;

    /** @param progress hears the rows written so far, after each write */
    InOrderRows(Writer<T> writer, LongConsumer progress) {
        this.writer = writer;
        this.progress = progress;
    }

    /** A row read, of {@code bytes} (roughly what keeping it costs); returns its index. */
    long read(int bytes) {
        readBytes.put(nextIndex, bytes);
        waitingBytes += bytes;
        return nextIndex++;
    }

    /** Whether rows read but not yet written reach the bound, with {@code capacity} rows running: read no more. */
    boolean full(int capacity) {
        return nextIndex - nextWrite >= capacity + RowJob.MAX_WAITING_ROWS || waitingBytes >= RowJob.MAX_WAITING_BYTES;
    }

    /** Row {@code index} is done; writes every row that is now next in order. Returns false once the reader has gone away. */
    boolean finish(long index, T row) {
        done.put(index, row);
        long before = nextWrite;
        while (!stopped && done.containsKey(nextWrite)) {
            T next = done.remove(nextWrite);
            waitingBytes -= readBytes.remove(nextWrite);
            nextWrite++;
            if (!writer.write(next)) {
                stopped = true;
            }
        }
        if (nextWrite > before) {
            progress.accept(nextWrite);
        }
        return !stopped;
    }

    /** Rows written. */
    long written() {
        return nextWrite;
    }

    /** Whether the reader has gone away. */
    boolean stopped() {
        return stopped;
    }
}
