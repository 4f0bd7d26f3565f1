package dev.rg.spark;

import dev.rg.core.generate.RowSeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.generate.SamplingParams;
import dev.rg.core.generate.TextSink;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RgSpark.generate in local[2] against rg-core run one prompt at a time (what {@code rg generate} does). */
class RgSparkGenerateTest {
    private static final int ROWS = 1000;
    private static final int MAX_TOKENS = 8;

    @TempDir
    static Path dir;

    private static SparkSession spark;
    private static Dataset<Row> prompts;
    private static GenerateSpec greedy;
    private static Map<Long, List<Object>> greedyBySpark;
    private static GenerateSpec sampled;
    private static Map<Long, List<Object>> sampledBySpark;

    /** Attempts of the task that is made to fail once (the tests run tasks in this JVM: local mode). */
    private static final AtomicInteger ATTEMPTS = new AtomicInteger();

    @BeforeAll
    static void run() {
        spark = LocalSpark.session();
        String parquet = dir.resolve("prompts.parquet").toString();
        SamplePrompts.writeParquet(spark, LocalSpark.model().resolve("heldout.txt"), ROWS, 4, parquet);
        prompts = spark.read().parquet(parquet);
        greedy = GenerateSpec.of(LocalSpark.model().toString()).withMaxTokens(MAX_TOKENS).withBatchSize(16).withBackend("auto", 1);
        greedyBySpark = byId(RgSpark.generate(prompts, greedy));
        sampled = greedy.withKeyColumn("id").withSampling(1.0f, 40, 0.95f, 1234);
        sampledBySpark = byId(RgSpark.generate(prompts.filter("id < 100"), sampled));
    }

    @Test
    void thousandGreedyRowsEqualOneByOneGeneration() {
        assertEquals(ROWS, greedyBySpark.size());
        RecurrentGemma rg = ModelCache.get(greedy);
        for (Row p : prompts.collectAsList()) {
            GenerationResult one = rg.generate(p.getString(1), GenerationConfig.greedy(MAX_TOKENS), TextSink.NONE);
            List<Object> got = greedyBySpark.get(p.getLong(0));
            assertEquals(List.of(p.getString(1), one.text(), one.promptTokens(), one.tokens().length,
                    one.reason().name().toLowerCase(java.util.Locale.ROOT)), got.subList(0, 5), "row " + p.getLong(0));
            assertNull(got.get(5), "error of row " + p.getLong(0));
        }
    }

    @Test
    void onePartitionGivesTheSameRowsAndTheModelIsLoadedOnce() {
        int loads = ModelCache.loads();
        Dataset<Row> one = prompts.repartition(1);
        assertEquals(1, one.rdd().getNumPartitions());
        assertEquals(greedyBySpark, byId(RgSpark.generate(one, greedy.withBatchSize(64))));
        // another job (other tasks, other stages) reuses this JVM's model
        assertEquals(loads, ModelCache.loads());
    }

    @Test
    void seededSamplingDependsOnTheRowKeyOnly() {
        Dataset<Row> some = prompts.filter("id < 100");
        // other batches, other partitions: the same rows
        assertEquals(sampledBySpark, byId(RgSpark.generate(some.repartition(3), sampled.withBatchSize(5))));
        // each row is what one sequence sampled with the row's own seed gives
        RecurrentGemma rg = ModelCache.get(sampled);
        int differFromGreedy = 0;
        for (Map.Entry<Long, List<Object>> e : sampledBySpark.entrySet()) {
            long seed = RowSeeds.of(1234, e.getKey());
            GenerationConfig cfg = GenerationConfig.greedy(MAX_TOKENS).withSampling(new SamplingParams(1.0f, 40, 0.95f, 0, 1, seed));
            GenerationResult one = rg.generate((String) e.getValue().get(0), cfg, TextSink.NONE);
            assertEquals(one.text(), e.getValue().get(1), "row " + e.getKey());
            differFromGreedy += one.text().equals(greedyBySpark.get(e.getKey()).get(1)) ? 0 : 1;
        }
        assertTrue(differFromGreedy > 50, "sampling at temperature 1 should differ from greedy on most rows: " + differFromGreedy);
        // another job seed, other rows
        assertNotEquals(sampledBySpark, byId(RgSpark.generate(some, sampled.withSampling(1.0f, 40, 0.95f, 99))));
    }

    @Test
    void aTaskThatFailsMidPartitionIsRetriedAndGivesTheSameRows() {
        ATTEMPTS.set(0);
        Dataset<Row> generated = RgSpark.generate(prompts.filter("id < 100").repartition(2), sampled);
        Dataset<Row> failingOnce = generated.mapPartitions(failFirstAttemptAfter(20), Encoders.row(generated.schema()));
        assertEquals(sampledBySpark, byId(failingOnce));
        assertTrue(ATTEMPTS.get() >= 2, "partition 0 should have been attempted twice, was " + ATTEMPTS.get());
    }

    /** Passes rows through; the first attempt of partition 0 dies after {@code n} rows, as a lost executor would. */
    private static MapPartitionsFunction<Row, Row> failFirstAttemptAfter(int n) {
        return rows -> {
            TaskContext task = TaskContext.get();
            boolean fail = task.partitionId() == 0 && task.attemptNumber() == 0;
            if (task.partitionId() == 0) {
                ATTEMPTS.incrementAndGet();
            }
            return new Iterator<>() {
                private int seen;

                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public Row next() {
                    if (fail && ++seen > n) {
                        throw new IllegalStateException("test: task killed mid-partition (attempt 0)");
                    }
                    return rows.next();
                }
            };
        };
    }

    @Test
    void anEmptyDatasetGivesNoRowsAndTheResultColumns() {
        Dataset<Row> none = RgSpark.generate(prompts.filter("id < 0"), greedy);
        assertEquals(0, none.count());
        assertEquals(List.of("id", "prompt", "completion", "prompt_tokens", "completion_tokens", "finish_reason", "error"),
                List.of(none.schema().fieldNames()));
    }

    /** id to (prompt, completion, prompt_tokens, completion_tokens, finish_reason, error). */
    static Map<Long, List<Object>> byId(Dataset<Row> out) {
        Map<Long, List<Object>> m = new TreeMap<>();
        for (Row r : out.collectAsList()) {
            List<Object> v = new ArrayList<>();
            for (String c : List.of("prompt", "completion", "prompt_tokens", "completion_tokens", "finish_reason", "error")) {
                v.add(r.get(r.fieldIndex(c)));
            }
            m.put(r.getLong(r.fieldIndex("id")), v);
        }
        return m;
    }
}
