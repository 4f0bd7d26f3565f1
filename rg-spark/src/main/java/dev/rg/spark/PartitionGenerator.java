package dev.rg.spark;

import dev.rg.core.generate.RowSeeds;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The per-partition work of {@link RgSpark#generate}: reads the partition lazily, {@code batchSize} rows at a
 * time, decodes each batch with the executor's shared model and yields the input rows with the result
 * columns appended. Only one batch is held at a time, so a huge partition needs no more memory than a small one.
 */
final class PartitionGenerator implements MapPartitionsFunction<Row, Row> {
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
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();
            private BatchRunner runner;

            @Override
            public boolean hasNext() {
                if (ready.isEmpty() && input.hasNext()) {
                    nextBatch();
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }

            private void nextBatch() {
                if (runner == null) {
                    // first row of the first non-empty partition on this executor loads the model; later ones reuse it
                    runner = new BatchRunner(ModelCache.get(spec), spec);
                }
                List<Row> rows = new ArrayList<>(spec.batchSize());
                while (rows.size() < spec.batchSize() && input.hasNext()) {
                    rows.add(input.next());
                }
                List<Object> prompts = new ArrayList<>(rows.size());
                long[] seeds = new long[rows.size()];
                boolean[] validUtf8 = new boolean[rows.size()];
                for (int i = 0; i < rows.size(); i++) {
                    Row r = rows.get(i);
                    prompts.add(r.get(promptIndex));
                    validUtf8[i] = r.length() == width || r.isNullAt(width) || r.getBoolean(width);
                    seeds[i] = RowSeeds.of(spec.seed(), keyIndex < 0 ? r.get(promptIndex) : r.get(keyIndex));
                }
                List<Outcome> outcomes = runner.run(prompts, validUtf8, seeds);
                for (int i = 0; i < rows.size(); i++) {
                    ready.add(withOutcome(rows.get(i), outcomes.get(i)));
                }
            }
        };
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
