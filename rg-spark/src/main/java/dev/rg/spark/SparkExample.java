package dev.rg.spark;

import dev.rg.core.generate.RowSeeds;
import dev.rg.core.RecurrentGemma;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The Parquet to Parquet job ({@code rg-spark/run-example.sh}, or {@code spark-submit --class
 * dev.rg.spark.SparkExample}): reads prompts, appends completions, writes Parquet, prints rows/s and tokens/s.
 * {@code --engine direct} does the same generation in this one JVM through rg-core's batch API, without Spark,
 * as the baseline to compare against.
 */
@Command(name = "rg-spark-example", mixinStandardHelpOptions = true,
        description = "Generate completions for a Parquet file of prompts with Spark (or directly, as a baseline).")
public final class SparkExample implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "PARQUET", description = "Input Parquet (file or directory) with a prompt column.")
    String input;

    @Option(names = "--output", paramLabel = "DIR", description = "Output Parquet directory (must not exist unless --overwrite).")
    String output;

    @Option(names = "--overwrite", description = "Replace the output directory.")
    boolean overwrite;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory, readable by every executor.")
    String model;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: the one spark-submit gives, else local[*]).")
    String master;

    @Option(names = "--prompt-column", defaultValue = "prompt", description = "Prompt column (default ${DEFAULT-VALUE}).")
    String promptColumn;

    @Option(names = "--key-column", description = "Column the sampling seed is derived from (default: the prompt).")
    String keyColumn;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "64", description = "New tokens per row (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--batch-size", defaultValue = "16", description = "Rows decoded together (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Top-k (0 = off).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Top-p (1 = off).")
    float topP;

    @Option(names = "--seed", defaultValue = "0", description = "Job seed, mixed with each row's key.")
    long seed;

    @Option(names = "--backend", defaultValue = "auto", description = "Backend on each executor (default ${DEFAULT-VALUE}: a GPU where there is one).")
    String backend;

    @Option(names = "--threads", defaultValue = "0", description = "Backend threads per executor JVM (0 = all cores).")
    int threads;

    @Option(names = "--make-input-from", paramLabel = "TEXT", description = "First write --rows example prompts cut from this text file to --input.")
    Path makeInputFrom;

    @Option(names = "--rows", defaultValue = "1000", description = "Rows for --make-input-from (default ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--prompt-prefix-file", paramLabel = "FILE",
            description = "Every prompt continues this text (UTF-8), processed once per executor (GenerateSpec.withPromptPrefix).")
    Path promptPrefixFile;

    @Option(names = "--inline-prefix",
            description = "With --prompt-prefix-file: put the text at the start of every prompt instead (the same prompts"
                    + " without the feature: the baseline to compare with).")
    boolean inlinePrefix;

    @Option(names = "--engine", defaultValue = "spark", description = "spark (default) or direct (one JVM, rg-core batch API, no output written).")
    String engine;

    public static void main(String[] args) {
        System.exit(new CommandLine(new SparkExample()).execute(args));
    }

    @Override
    public Integer call() {
        GenerateSpec spec;
        try {
            spec = GenerateSpec.of(model).withPromptColumn(promptColumn).withKeyColumn(keyColumn).withMaxTokens(maxTokens)
                    .withBatchSize(batchSize).withSampling(temperature, topK, topP, seed).withBackend(backend, threads);
        } catch (IllegalArgumentException e) {
            System.err.println("rg-spark: " + e.getMessage());
            return 2;
        }
        String prefix = null;
        if (promptPrefixFile != null) {
            try {
                prefix = Files.readString(promptPrefixFile, java.nio.charset.StandardCharsets.UTF_8);
                spec = inlinePrefix ? spec : spec.withPromptPrefix(prefix);
            } catch (java.io.IOException | IllegalArgumentException e) {
                System.err.println("rg-spark: --prompt-prefix-file " + promptPrefixFile + ": " + e.getMessage());
                return 2;
            }
        } else if (inlinePrefix) {
            System.err.println("rg-spark: --inline-prefix needs --prompt-prefix-file");
            return 2;
        }
        if (!engine.equals("spark") && !engine.equals("direct")) {
            System.err.println("rg-spark: --engine must be spark or direct, got " + engine);
            return 2;
        }
        if (engine.equals("spark") && output == null) {
            System.err.println("rg-spark: --output is required with --engine spark");
            return 2;
        }
        if (output != null && Files.exists(Path.of(output)) && !overwrite) {
            System.err.println("rg-spark: output " + output + " exists (use --overwrite to replace it)");
            return 2;
        }
        SparkSession.Builder builder = SparkSession.builder().appName("rg-spark-example").config("spark.ui.enabled", "false");
        if (master != null) {
            builder.master(master);
        } else if (!new org.apache.spark.SparkConf().contains("spark.master")) {
            builder.master("local[*]");
        }
        SparkSession spark = builder.getOrCreate();
        try {
            if (makeInputFrom != null) {
                if (Files.exists(Path.of(input))) {
                    System.err.println("rg-spark: --input " + input + " exists; --make-input-from writes a new one");
                    return 2;
                }
                SamplePrompts.writeParquet(spark, makeInputFrom, rows, Math.max(1, spark.sparkContext().defaultParallelism()), input);
                System.out.println("wrote " + rows + " example prompts to " + input);
            }
            Dataset<Row> prompts = spark.read().parquet(input);
            if (prefix != null && inlinePrefix) {
                prompts = prompts.withColumn(spec.promptColumn(), functions.concat(functions.lit(prefix), prompts.col(spec.promptColumn())));
            }
            return engine.equals("spark") ? viaSpark(spark, prompts, spec) : direct(prompts, spec);
        } catch (IllegalArgumentException e) {
            System.err.println("rg-spark: " + e.getMessage());
            return 1;
        } finally {
            spark.stop();
        }
    }

    private int viaSpark(SparkSession spark, Dataset<Row> prompts, GenerateSpec spec) {
        long t0 = System.nanoTime();
        // Spark's committer writes under _temporary and moves files into place when the job succeeds
        RgSpark.generate(prompts, spec).write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(output);
        double seconds = (System.nanoTime() - t0) / 1e9;
        Row sums = spark.read().parquet(output).agg(functions.count("*"), functions.count("error"),
                functions.sum("prompt_tokens"), functions.sum("completion_tokens")).first();
        report("spark", sums.getLong(0), sums.getLong(1), sums.isNullAt(2) ? 0 : sums.getLong(2), sums.isNullAt(3) ? 0 : sums.getLong(3), seconds);
        System.out.println("wrote " + output);
        if (spark.sparkContext().isLocal()) {
            // local mode: this JVM is the executor, so this counts how often the tasks loaded the model
            System.out.println("model loads in this JVM: " + ModelCache.loads() + " (" + spark.sparkContext().defaultParallelism() + " task slots)");
        }
        return 0;
    }

    /** The baseline: the same prompts, batches and seeds through rg-core in this JVM (the prompts are collected first). */
    private int direct(Dataset<Row> prompts, GenerateSpec spec) {
        List<Row> rows = prompts.collectAsList();
        int promptIndex = prompts.schema().fieldIndex(spec.promptColumn());
        int keyIndex = spec.keyColumn() == null ? promptIndex : prompts.schema().fieldIndex(spec.keyColumn());
        long t0 = System.nanoTime();
        RecurrentGemma rg = ModelCache.get(spec);
        BatchRunner runner = new BatchRunner(rg, spec);
        long errors = 0, promptTokens = 0, completionTokens = 0;
        for (int from = 0; from < rows.size(); from += spec.batchSize()) {
            List<Object> batch = new ArrayList<>();
            List<Row> part = rows.subList(from, Math.min(rows.size(), from + spec.batchSize()));
            long[] seeds = new long[part.size()];
            boolean[] validUtf8 = new boolean[part.size()];
            java.util.Arrays.fill(validUtf8, true);
            for (int i = 0; i < part.size(); i++) {
                batch.add(part.get(i).get(promptIndex));
                seeds[i] = RowSeeds.of(spec.seed(), part.get(i).get(keyIndex));
            }
            for (Outcome o : runner.run(batch, validUtf8, seeds)) {
                errors += o.error() == null ? 0 : 1;
                promptTokens += o.promptTokens() == null ? 0 : o.promptTokens();
                completionTokens += o.completionTokens() == null ? 0 : o.completionTokens();
            }
        }
        report("direct", rows.size(), errors, promptTokens, completionTokens, (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private static void report(String engine, long rows, long errors, long promptTokens, long completionTokens, double seconds) {
        System.out.printf(Locale.ROOT, "%s: %d rows (%d errors), %d prompt + %d completion tokens in %.2f s: %.1f rows/s, %.1f completion tokens/s%n",
                engine, rows, errors, promptTokens, completionTokens, seconds, rows / seconds, completionTokens / seconds);
    }
}
