package dev.rg.cli;

import java.util.function.LongConsumer;

/**
 * The work of {@code rg batch} on one input form: JSON Lines in, one output line per input line, in input order.
 * {@link BatchJob} takes prompt rows; {@link OpenAiBatchJob} takes OpenAI Batch API requests.
 */
interface RowJob {
    /** Where finished rows go; false once the reader has gone away (a closed pipe). */
    interface Sink {
        boolean write(String line);
    }

    /** What a run did; {@code cachedTokens} of the prompt tokens were resumed from a kept state, not prefilled. */
    record Totals(long rows, long errors, long promptTokens, long cachedTokens, long completionTokens, boolean stopped) {}

    /**
     * Rows that finished wait until every row before them is written (the output keeps the input's order): reading stops
     * while this many rows beyond the running ones, or this many bytes of rows, wait, so a long row at the head of the
     * input cannot make the job hold the rest of the file.
     */
    int MAX_WAITING_ROWS = 256;
    long MAX_WAITING_BYTES = 64L << 20;

    /** Runs every row of {@code in} into {@code out}, in input order; {@code progress} hears the rows written so far. */
    Totals run(JsonlLines in, Sink out, LongConsumer progress);

    /** Whether {@code keptRow}, written by an earlier run, was made from input {@code line} (what {@code --resume} checks). */
    boolean produced(JsonlLines.Line line, String keptRow);
}
