package dev.rg.spark;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * rg on Apache Spark: generation as a Dataset transformation and as a SQL function. Each executor JVM loads the
 * model once (lazily, memory-mapped) and shares it between its tasks; partitions are decoded in batches.
 *
 * <pre>{@code
 * Dataset<Row> out = RgSpark.generate(spark.read().parquet("prompts.parquet"),
 *         GenerateSpec.of("/models/austen-6m").withMaxTokens(64).withBatchSize(32));
 * RgSpark.register(spark, GenerateSpec.of("/models/austen-6m"));
 * spark.sql("SELECT id, rg_generate(prompt, map('max_tokens', '16')).completion FROM prompts");
 * }</pre>
 */
public final class RgSpark {
    /** The columns {@link #generate} appends, in order. */
    public static final List<String> RESULT_COLUMNS = List.of("completion", "prompt_tokens", "completion_tokens", "finish_reason", "error");

    /** The type of the appended columns, and of the SQL function's result. */
    public static final StructType RESULT_TYPE = new StructType(new StructField[] {
        DataTypes.createStructField("completion", DataTypes.StringType, true),
        DataTypes.createStructField("prompt_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("completion_tokens", DataTypes.IntegerType, true),
        DataTypes.createStructField("finish_reason", DataTypes.StringType, true),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    private RgSpark() {}

    /**
     * The rows of {@code prompts} with {@code completion}, {@code prompt_tokens}, {@code completion_tokens},
     * {@code finish_reason} and {@code error} appended (a row whose prompt cannot be used gets an error and
     * null results; the job goes on). Lazy, like any Dataset transformation. Row order and partitioning are
     * kept.
     *
     * @throws IllegalArgumentException (on the driver) when a column is missing or has the wrong type
     */
    public static Dataset<Row> generate(Dataset<Row> prompts, GenerateSpec spec) {
        StructType in = prompts.schema();
        int promptIndex = columnIndex(in, spec.promptColumn(), "prompt");
        DataType t = in.fields()[promptIndex].dataType();
        if (!(t instanceof StringType) && !(t instanceof BinaryType)) {
            throw new IllegalArgumentException("rg-spark: prompt column " + spec.promptColumn() + " has type "
                    + t.simpleString() + ", expected string or binary (UTF-8)");
        }
        int keyIndex = spec.keyColumn() == null ? -1 : columnIndex(in, spec.keyColumn(), "key");
        StructType out = in;
        for (StructField f : RESULT_TYPE.fields()) {
            if (List.of(in.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("rg-spark: the input already has a column " + f.name()
                        + " (rg adds " + String.join(", ", RESULT_COLUMNS) + "): rename it first");
            }
            out = out.add(f);
        }
        Dataset<Row> input = prompts;
        if (t instanceof StringType) {
            // Spark gives rows to Java as strings with malformed bytes already replaced; check the bytes here
            input = prompts.withColumn("__rg_prompt_is_utf8", functions.call_function("is_valid_utf8", prompts.col(spec.promptColumn())));
        }
        PartitionGenerator generator = new PartitionGenerator(spec, promptIndex, keyIndex, in.fields().length);
        return input.mapPartitions(generator, Encoders.row(out));
    }

    /**
     * Registers {@code rg_generate(prompt [, options map<string,string>])} in {@code spark}'s SQL: it returns a
     * struct of the {@link #RESULT_TYPE} fields. {@code spec} fixes the model and the defaults; options override
     * per call (see {@link GenerateSpec#withOptions}). Rows are decoded one at a time (a SQL function sees one row);
     * use {@link #generate} for batched decoding.
     */
    public static void register(SparkSession spark, GenerateSpec spec) {
        SqlFunction.register(spark, spec);
    }

    private static int columnIndex(StructType schema, String name, String role) {
        for (int i = 0; i < schema.fields().length; i++) {
            if (schema.fields()[i].name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("rg-spark: no " + role + " column " + name + " in the input (columns: "
                + String.join(", ", schema.fieldNames()) + ")");
    }
}
