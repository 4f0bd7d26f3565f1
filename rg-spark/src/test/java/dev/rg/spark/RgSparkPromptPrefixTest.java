package dev.rg.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.BatchGenerator;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.GenerationResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * {@link GenerateSpec#withPromptPrefix}: every row continues one instruction that the executor processes once; each
 * row's completion is what its whole prompt (the prefix's tokens, then its own) gives, and the limit counts both.
 */
class RgSparkPromptPrefixTest {
    private static final String PREFIX = "Chapter 1\n\nIt is a truth universally acknowledged, that a single man in possession"
            + " of a good fortune, must be in want of a wife.\n\n";

    @Test
    void rowsContinueThePrefixProcessedOncePerExecutor() {
        SparkSession spark = LocalSpark.session();
        List<String> texts = List.of("Mrs. Bennet said", "Emma", "The next morning, Elizabeth", "Mr. Darcy", "Her sister",
                "It was", "Jane wrote", "At Netherfield");
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(org.apache.spark.sql.RowFactory.create((long) i, texts.get(i)));
        }
        Dataset<Row> prompts = spark.createDataFrame(rows, new org.apache.spark.sql.types.StructType()
                .add("id", "long").add("prompt", "string")).repartition(2);
        GenerateSpec spec = GenerateSpec.of(LocalSpark.model().toString()).withMaxTokens(8).withBatchSize(3)
                .withBackend("reference", 1).withPromptPrefix(PREFIX);
        int builds = ModelCache.prefixBuilds();
        Map<Long, List<Object>> got = RgSparkGenerateTest.byId(RgSpark.generate(prompts, spec));
        assertEquals(builds + 1, ModelCache.prefixBuilds(), "two tasks, three batches each at most: one prefix");

        RecurrentGemma rg = ModelCache.get(spec);
        int[] prefixIds = rg.tokenize(PREFIX);
        for (int i = 0; i < texts.size(); i++) {
            int[] own = rg.tokenize(texts.get(i));
            int[] whole = new int[1 + prefixIds.length + own.length];
            whole[0] = rg.model().config().bosId();
            System.arraycopy(prefixIds, 0, whole, 1, prefixIds.length);
            System.arraycopy(own, 0, whole, 1 + prefixIds.length, own.length);
            GenerationResult r = new BatchGenerator(rg.model(), rg.tokenizer()).generate(List.of(whole), GenerationConfig.greedy(8),
                    new long[] {0}).get(0);
            List<Object> row = got.get((long) i);
            assertEquals(List.of(texts.get(i), r.text(), whole.length, r.tokens().length), row.subList(0, 4), "row " + i);
            assertNull(row.get(5));
        }

        // the limit counts the prefix: only the shortest rows fit in prefix + 2 tokens
        int limit = 1 + prefixIds.length + 2;
        Map<Long, List<Object>> limited = RgSparkGenerateTest.byId(RgSpark.generate(prompts, spec.withMaxPromptTokens(limit)));
        int refused = 0;
        for (Map.Entry<Long, List<Object>> e : limited.entrySet()) {
            int own = rg.tokenize(texts.get(e.getKey().intValue())).length;
            String error = (String) e.getValue().get(5);
            if (own > 2) {
                refused++;
                assertEquals("prompt has " + (1 + prefixIds.length + own) + " tokens (the prompt prefix's " + (1 + prefixIds.length)
                        + " included), more than max_prompt_tokens " + limit, error);
            } else {
                assertNull(error, "row " + e.getKey());
            }
        }
        assertTrue(refused > 0 && refused < texts.size(), refused + " rows refused");
        assertEquals(builds + 1, ModelCache.prefixBuilds(), "the next job reuses the executor's prefix");
    }
}
