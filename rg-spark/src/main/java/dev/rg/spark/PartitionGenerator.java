package dev.rg.spark;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.ContinuousGenerator;
import dev.rg.core.generate.PromptPrefix;
import dev.rg.core.generate.RowSeeds;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The per-partition work of {@link RgSpark#generate}: reads the partition lazily and decodes its rows with continuous
 * batching ({@link ContinuousGenerator}): up to {@code batchSize} rows decode together, and when one ends the next row
 * of the partition takes its slot at the next step, so no slot idles behind a long row as in fixed batches. Each row is
 * still prefilled alone and sampled with its own seed, so its result is the one it gets in any batch (see
 * {@link BatchRunner}). Rows come out in input order; a row that ends early waits for those before it, and reading
 * stops while {@link #MAX_WAITING_ROWS} rows beyond the running ones wait, so a huge partition needs no more memory
 * than a small one.
 */
final class PartitionGenerator implements MapPartitionsFunction<Row, Row> {
    /** Rows read beyond the running ones that may wait for a row before them to end. */
    static final int MAX_WAITING_ROWS = 256;

    private final GenerateSpec spec;
    private final int promptIndex;
    private final int keyIndex;
    private final int width;

    /**
     * @param keyIndex the key column's index, or -1 to derive seeds from the prompt
     * @param width    the caller's columns; a string prompt is followed by one more, is_valid_utf8(prompt),
     *                 which is not passed on
     */
    PartitionGenerator(GenerateSpec spec, int promptIndex, int keyIndex, int width) {
        this.spec = spec;
        this.promptIndex = promptIndex;
        this.keyIndex = keyIndex;
        this.width = width;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        return new Rows(input);
    }

    /** The partition's output rows, produced as the caller pulls them. */
    private final class Rows implements Iterator<Row> {
        private final Iterator<Row> input;
        private final Map<Long, Row> inputs = new HashMap<>();
        private final Map<Long, Row> done = new HashMap<>();
        private long nextIndex;
        private long nextOut;
        private ContinuousGenerator.Run run;
        private PromptPrefix prefix;
        /** This partition's own prefix (closed with it), when the executor's cache had no room for the spec's. */
        private PromptPrefix ownPrefix;
        private RecurrentGemma rg;
        private boolean closed;

        Rows(Iterator<Row> input) {
            this.input = input;
        }

        @Override
        public boolean hasNext() {
            while (!done.containsKey(nextOut)) {
                if (nextOut == nextIndex && !input.hasNext()) {
                    close();
                    return false;
                }
                admit();
                if (!done.containsKey(nextOut) && run != null && run.running() > 0) {
                    for (ContinuousGenerator.Finished f : run.step()) {
                        done.put(f.index(), withOutcome(inputs.remove(f.index()), Outcome.of(f.result())));
                    }
                }
            }
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return done.remove(nextOut++);
        }

        /** Reads rows into free slots (a bad row gets its error at once) while few enough rows wait. */
        private void admit() {
            if (run == null) {
                open();
            }
            while (run.hasRoom() && input.hasNext() && nextIndex - nextOut < spec.batchSize() + MAX_WAITING_ROWS) {
                Row r = input.next();
                long index = nextIndex++;
                boolean validUtf8 = r.length() == width || r.isNullAt(width) || r.getBoolean(width);
                int prefixTokens = prefix == null ? 0 : prefix.length();
                PromptCheck.Checked c = PromptCheck.check(rg, r.get(promptIndex), validUtf8, spec.maxPromptTokens(), prefixTokens);
                if (c.error() != null) {
                    done.put(index, withOutcome(r, c.error()));
                    continue;
                }
                long seed = RowSeeds.of(spec.seed(), keyIndex < 0 ? r.get(promptIndex) : r.get(keyIndex));
                try {
                    ContinuousGenerator.Finished f = run.add(new ContinuousGenerator.Job(index, c.ids(), seed, prefix));
                    if (f != null) {
                        done.put(index, withOutcome(r, Outcome.of(f.result())));
                    } else {
                        inputs.put(index, r);
                    }
                } catch (IllegalArgumentException e) {
                    // rg-core refused this prompt (an input problem, not a fault): the row carries the error
                    done.put(index, withOutcome(r, Outcome.error(c.ids().length + prefixTokens, e.getMessage())));
                }
            }
        }

        /** The first row of the first non-empty partition on this executor loads the model; later ones reuse it. */
        private void open() {
            rg = ModelCache.get(spec);
            if (spec.promptPrefix() != null) {
                prefix = ModelCache.prefix(rg, spec.promptPrefix());
                if (prefix == null) {
                    // this executor keeps enough other prefixes already: one for this partition
                    ownPrefix = ModelCache.build(rg, spec.promptPrefix());
                    prefix = ownPrefix;
                }
            }
            run = new ContinuousGenerator(rg.model(), rg.tokenizer()).open(spec.generationConfig(), spec.batchSize());
            TaskContext task = TaskContext.get();
            if (task != null) {
                // a task that stops reading early frees the batch too
                task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> close());
            }
        }

        private void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (run != null) {
                run.close();
            }
            if (ownPrefix != null) {
                ownPrefix.close();
            }
        }
    }

    private Row withOutcome(Row row, Outcome o) {
        Object[] extra = o.values();
        Object[] values = new Object[width + extra.length];
        for (int i = 0; i < width; i++) {
            values[i] = row.get(i);
        }
        System.arraycopy(extra, 0, values, width, extra.length);
        return RowFactory.create(values);
    }
}
