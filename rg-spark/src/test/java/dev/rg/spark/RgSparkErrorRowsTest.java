package dev.rg.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.TextSink;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Rows whose prompt cannot be used get an error column; the other rows of their batch are generated as usual. */
class RgSparkErrorRowsTest {
    private final SparkSession spark = LocalSpark.session();
    private final GenerateSpec spec = GenerateSpec.of(LocalSpark.model().toString()).withMaxTokens(6).withMaxPromptTokens(40)
            .withBatchSize(8).withBackend("auto", 1);

    @Test
    void badStringPromptsGetAnErrorAndTheRestOfTheBatchIsGenerated() {
        String tooLong = String.join(" ", java.util.Collections.nCopies(60, "Elizabeth"));
        List<Row> rows = List.of(
                RowFactory.create(0L, "It is a truth universally acknowledged"),
                RowFactory.create(1L, null),
                RowFactory.create(2L, ""),
                RowFactory.create(3L, tooLong),
                RowFactory.create(5L, "Mr. Darcy"));
        StructType schema = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.StringType);
        Map<Long, List<Object>> out = RgSparkGenerateTest.byId(RgSpark.generate(spark.createDataFrame(rows, schema).coalesce(1), spec));
        assertEquals("prompt is null", out.get(1L).get(5));
        assertEquals("prompt is empty", out.get(2L).get(5));
        assertEquals("prompt has 61 tokens (BOS included), more than max_prompt_tokens 40", out.get(3L).get(5));
        assertEquals(61, out.get(3L).get(2));
        for (long bad : new long[] {1, 2, 3}) {
            assertNull(out.get(bad).get(1), "completion of error row " + bad);
        }
        RecurrentGemma rg = ModelCache.get(spec);
        for (long good : new long[] {0, 5}) {
            String prompt = (String) out.get(good).get(0);
            assertEquals(rg.generate(prompt, GenerationConfig.greedy(6), TextSink.NONE).text(), out.get(good).get(1), "row " + good);
            assertNull(out.get(good).get(5));
        }
    }

    @Test
    void binaryPromptsMustBeUtf8() {
        byte[] good = "Miss Bennet".getBytes(StandardCharsets.UTF_8);
        byte[] bad = Arrays.copyOf(good, good.length + 2);
        bad[good.length] = (byte) 0xC3; // a lead byte followed by ASCII: malformed
        bad[good.length + 1] = 'x';
        StructType schema = new StructType().add("id", DataTypes.LongType).add("prompt", DataTypes.BinaryType);
        Dataset<Row> in = spark.createDataFrame(List.of(RowFactory.create(0L, good), RowFactory.create(1L, bad)), schema);
        List<Row> out = RgSpark.generate(in, spec).orderBy("id").collectAsList();
        assertNull(out.get(0).getAs("error"));
        assertEquals(ModelCache.get(spec).generate("Miss Bennet", GenerationConfig.greedy(6), TextSink.NONE).text(), out.get(0).getAs("completion"));
        assertEquals("prompt is not valid UTF-8 (at byte 11 of 13)", out.get(1).getAs("error"));
        // the same bytes as a string column (as a Parquet file with bad bytes gives them)
        List<Row> asText = RgSpark.generate(in.selectExpr("id", "cast(prompt as string) AS prompt"), spec).orderBy("id").collectAsList();
        assertEquals(out.get(0).getAs("completion"), (String) asText.get(0).getAs("completion"));
        assertEquals("prompt is not valid UTF-8", asText.get(1).getAs("error"));
        assertEquals(List.of("id", "prompt", "completion", "prompt_tokens", "completion_tokens", "finish_reason", "error"),
                List.of(asText.get(0).schema().fieldNames()));
    }

    @Test
    void aMissingOrMistypedColumnIsRefusedOnTheDriver() {
        StructType schema = new StructType().add("id", DataTypes.LongType).add("text", DataTypes.IntegerType);
        Dataset<Row> in = spark.createDataFrame(List.of(RowFactory.create(0L, 1)), schema);
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> RgSpark.generate(in, spec));
        assertEquals("rg-spark: no prompt column prompt in the input (columns: id, text)", missing.getMessage());
        IllegalArgumentException typed = assertThrows(IllegalArgumentException.class,
                () -> RgSpark.generate(in, spec.withPromptColumn("text")));
        assertEquals("rg-spark: prompt column text has type int, expected string or binary (UTF-8)", typed.getMessage());
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                () -> RgSpark.generate(in.withColumnRenamed("text", "prompt").selectExpr("id", "cast(prompt as string) prompt"), spec.withKeyColumn("k")));
        assertTrue(key.getMessage().startsWith("rg-spark: no key column k"), key.getMessage());
    }
}
