package dev.rg.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.ContinuousGenerator;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.PromptPrefix;
import dev.rg.core.generate.RowSeeds;

/**
 * {@code rg batch}'s work: JSON Lines in, one output line per input row, in input order. A row is a JSON string (the
 * prompt), an object with a {@code "prompt"} string, or an object with chat {@code "messages"}; its output is the object
 * (or {@code {"prompt": ...}}) with {@code completion}, {@code prompt_tokens}, {@code completion_tokens},
 * {@code finish_reason} and {@code error} added, the columns rg-spark adds. A row that cannot be generated for (not
 * JSON, no prompt, empty, too long, not UTF-8) gets its {@code error} and null results, and the job goes on. Up to
 * {@code batchSize} rows decode together through rg-core's {@link ContinuousGenerator}; a sampled row's seed comes from
 * the job seed and its key ({@link RowSeeds}), so its text does not depend on the batch size, its neighbours or its
 * place in the input, and equals rg-spark's for the same key.
 */
final class BatchJob implements RowJob {
    private final RecurrentGemma rg;
    private final GenerationConfig config;
    private final int batchSize;
    private final BatchRows batchRows;
    /** The prompt prefix's tokens (BOS first), or null. */
    private final int[] prefixIds;

    /** @param prefix the text every row's prompt continues (processed once), or null */
    BatchJob(RecurrentGemma rg, GenerationConfig config, int batchSize, int maxPromptTokens, boolean chat, String keyField,
            String prefix) {
        this.rg = rg;
        this.config = config;
        this.batchSize = batchSize;
        this.prefixIds = prefix == null ? null : rg.withBos(rg.tokenize(prefix));
        this.batchRows = new BatchRows(rg, config, maxPromptTokens, chat, keyField, prefixIds == null ? 0 : prefixIds.length);
    }

    /** See {@link BatchRows#produced}. */
    @Override
    public boolean produced(JsonlLines.Line line, String keptRow) {
        return batchRows.produced(line, keptRow);
    }

    /**
     * Runs every row of {@code in} into {@code out}, in input order; {@code progress} hears the rows written so far.
     * Rows are generated with continuous batching ({@link ContinuousGenerator}): up to {@code batchSize} decode
     * together and a finished row's slot takes the next prompt at once; rows that finish early wait (bounded, see
     * {@link #MAX_WAITING_ROWS}) until the rows before them are written.
     */
    @Override
    public Totals run(JsonlLines in, Sink out, java.util.function.LongConsumer progress) {
        try (PromptPrefix prefix = prefixIds == null ? null : PromptPrefix.of(rg.model(), prefixIds)) {
            return run(in, out, progress, prefix);
        }
    }

    /** {@link #run} with every row continuing {@code prefix} (processed once; null for none). */
    private Totals run(JsonlLines in, Sink out, java.util.function.LongConsumer progress, PromptPrefix prefix) {
        Tally tally = new Tally();
        InOrderRows<ObjectNode> ordered = new InOrderRows<>(o -> tally.add(o) && out.write(o.toString()), progress);
        java.util.Map<Long, BatchRows.Row> pending = new java.util.HashMap<>(); // rows read and not yet finished
        ContinuousGenerator.Sink finish = (index, r) -> ordered.finish(index, batchRows.output(pending.remove(index), r));
        boolean finished = new ContinuousGenerator(rg.model(), rg.tokenizer()).run(new ContinuousGenerator.Source() {
            private boolean exhausted;

            @Override
            public ContinuousGenerator.Job next() {
                while (!exhausted && !ordered.full(batchSize)) {
                    JsonlLines.Line line = in.next();
                    if (line == null) {
                        exhausted = true;
                        break;
                    }
                    BatchRows.Row row = batchRows.parse(line);
                    long index = ordered.read(row.bytes());
                    pending.put(index, row);
                    if (row.error() == null) {
                        return new ContinuousGenerator.Job(index, row.ids(), row.seed(), prefix, row.maxTokens());
                    }
                    if (!finish.accept(index, null)) {
                        exhausted = true; // the reader has gone away: start nothing more
                    }
                }
                return null;
            }

            @Override
            public boolean exhausted() {
                return exhausted;
            }
        }, config, batchSize, finish);
        return new Totals(ordered.written(), tally.errors, tally.promptTokens, 0, tally.completionTokens,
                !finished || ordered.stopped());
    }

    /** The errors and tokens of the rows written. */
    private static final class Tally {
        long errors;
        long promptTokens;
        long completionTokens;

        boolean add(ObjectNode o) {
            if (!o.get("error").isNull()) {
                errors++;
            }
            promptTokens += o.get("prompt_tokens").asLong(0);
            completionTokens += o.get("completion_tokens").asLong(0);
            return true;
        }
    }
}
