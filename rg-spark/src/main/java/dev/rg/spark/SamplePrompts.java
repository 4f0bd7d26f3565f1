package dev.rg.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Example input: {@code n} prompts (an {@code id} and a {@code prompt} of 3 to 12 words) cut from a text file
 * at spread-out places, so a demo or test needs nothing but the model's own held-out text.
 */
public final class SamplePrompts {
    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("prompt", DataTypes.StringType, true);

    private SamplePrompts() {}

    /** The prompts as rows (id, prompt), the same for the same file and n. */
    public static List<Row> rows(Path textFile, int n) {
        String[] words;
        try {
            words = Files.readString(textFile).trim().split("\\s+");
        } catch (IOException e) {
            throw new UncheckedIOException("rg-spark: cannot read " + textFile + ": " + e.getMessage(), e);
        }
        if (words.length < 24) {
            throw new IllegalArgumentException("rg-spark: " + textFile + " has " + words.length + " words, need at least 24 to cut prompts");
        }
        List<Row> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int length = 3 + i % 10;
            int from = (int) ((i * 7919L) % (words.length - length));
            rows.add(RowFactory.create((long) i, String.join(" ", List.of(words).subList(from, from + length))));
        }
        return rows;
    }

    /** Writes {@link #rows} as Parquet to {@code out} in {@code partitions} files. */
    public static void writeParquet(SparkSession spark, Path textFile, int n, int partitions, String out) {
        Dataset<Row> df = spark.createDataFrame(rows(textFile, n), SCHEMA).repartition(partitions);
        df.sortWithinPartitions("id").write().mode(SaveMode.ErrorIfExists).parquet(out);
    }
}
