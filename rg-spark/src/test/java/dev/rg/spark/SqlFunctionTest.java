package dev.rg.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.TextSink;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** {@code rg_generate(prompt [, options])} on a temporary view. */
class SqlFunctionTest {
    private final SparkSession spark = LocalSpark.session();
    private final GenerateSpec spec = GenerateSpec.of(LocalSpark.model().toString()).withMaxTokens(5).withBackend("auto", 1);

    @Test
    void generatesInSelectWithAndWithoutOptions() {
        RgSpark.register(spark, spec);
        spark.createDataFrame(SamplePrompts.rows(LocalSpark.model().resolve("heldout.txt"), 24), SamplePrompts.SCHEMA)
                .createOrReplaceTempView("austen_prompts");
        List<Row> rows = spark.sql("""
                SELECT id, prompt, rg_generate(prompt) AS d, rg_generate(prompt, map('max_tokens', '3')) AS short
                FROM austen_prompts ORDER BY id""").collectAsList();
        assertEquals(24, rows.size());
        RecurrentGemma rg = ModelCache.get(spec);
        for (Row r : rows) {
            String prompt = r.getString(1);
            Row d = r.getStruct(2);
            Row shortOne = r.getStruct(3);
            assertEquals(rg.generate(prompt, GenerationConfig.greedy(5), TextSink.NONE).text(), d.getAs("completion"), prompt);
            assertEquals(rg.generate(prompt, GenerationConfig.greedy(3), TextSink.NONE).text(), shortOne.getAs("completion"), prompt);
            assertTrue((Integer) shortOne.getAs("completion_tokens") <= 3);
            assertNull(d.getAs("error"));
        }
    }

    @Test
    void aNullPromptGivesAnErrorFieldAndSeedsMakeSamplingRepeatable() {
        RgSpark.register(spark, spec);
        Row r = spark.sql("""
                SELECT rg_generate(CAST(NULL AS STRING)) AS n, rg_generate(CAST(X'4DC378' AS STRING)).error AS bad,
                       rg_generate('Emma', map('temperature', '1', 'seed', '5')).completion AS a,
                       rg_generate('Emma', map('temperature', '1', 'seed', '5')).completion AS b""").first();
        assertEquals("prompt is null", r.getStruct(0).getAs("error"));
        assertEquals("prompt is not valid UTF-8", r.getString(1));
        assertEquals(r.getString(2), r.getString(3));
    }

    @Test
    void badOptionsAndArityAreClearErrors() {
        RgSpark.register(spark, spec);
        Exception unknown = assertThrows(Exception.class,
                () -> spark.sql("SELECT rg_generate('Emma', map('max_token', '3'))").collect());
        assertTrue(causes(unknown).contains("rg_generate: unknown option 'max_token'"), causes(unknown));
        Exception arity = assertThrows(Exception.class, () -> spark.sql("SELECT rg_generate('a', map(), 3)").collect());
        assertTrue(causes(arity).contains("rg_generate takes (prompt) or (prompt, map<string,string> options), got 3 arguments"), causes(arity));
    }

    private static String causes(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
