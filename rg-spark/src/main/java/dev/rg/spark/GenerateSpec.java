package dev.rg.spark;

import dev.rg.core.generate.RowSeeds;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.SamplingParams;
import dev.rg.core.model.LoadOptions;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a Spark generation job does: which model (a directory every executor can read), which columns, how many
 * tokens, how to sample, and how big the decode batches are. Immutable and serializable: Spark ships it to the
 * executors with the task. Build it with {@link #of(String)} and the {@code with*} methods.
 *
 * @param modelDir        the model directory (config.json, safetensors, tokenizer) as executors see it: an
 *                        absolute path on every node, a shared filesystem, or a name shipped with
 *                        {@code --archives model.tgz#name} / {@code --files} (resolved with SparkFiles)
 * @param promptColumn    the input column holding the prompt (string, or binary holding UTF-8)
 * @param keyColumn       the column a sampling seed is derived from (null: the prompt text itself), so a
 *                        retried or speculative task gives identical rows
 * @param maxTokens       new tokens per row (&gt;= 1)
 * @param maxPromptTokens prompts longer than this (BOS included) get an error instead of a completion
 * @param batchSize       rows decoded together (one pass over the weights per step for all of them)
 * @param temperature     0 = greedy, else sampling temperature
 * @param topK            keep the K most likely tokens (0 = off)
 * @param topP            nucleus threshold (1 = off)
 * @param seed            mixed with the row key into each row's seed
 * @param stopOnEos       stop at EOS / {@code <end_of_turn>}
 * @param backend         {@code auto} (a GPU where there is one), {@code vector}, {@code reference}, ...
 * @param threads         backend threads per executor JVM (0 = all cores)
 * @param format          convert linear layers at load ({@code int8}, {@code nf4}, ...; null = as stored)
 * @param json            JSON mode: each completion is kept a JSON object and ends when it closes
 *                        ({@link dev.rg.core.generate.JsonConstraint}); ask for JSON in the prompt
 * @param promptPrefix    text every row's prompt continues (an instruction, worked examples; null = none): BOS and
 *                        its tokens, then the row's own tokens (each text tokenized on its own). Each executor
 *                        processes it once ({@link dev.rg.core.generate.PromptPrefix}) and every row only its own
 *                        tokens; {@code prompt_tokens} and {@code max_prompt_tokens} count both
 */
public record GenerateSpec(String modelDir, String promptColumn, String keyColumn, int maxTokens, int maxPromptTokens,
        int batchSize, float temperature, int topK, float topP, long seed, boolean stopOnEos, String backend, int threads,
        String format, boolean json, String promptPrefix) implements Serializable {

    /** Upper bound on batchSize: the state is per sequence x batch, so this caps executor memory per task. */
    public static final int MAX_BATCH = 4096;

    public GenerateSpec {
        require(modelDir != null && !modelDir.isBlank(), "model directory must be given");
        require(promptColumn != null && !promptColumn.isBlank(), "prompt column must be given");
        require(maxTokens >= 1 && maxTokens <= GenerationConfig.MAX_TOKENS_LIMIT, "max tokens must be >= 1, got " + maxTokens);
        require(maxPromptTokens >= 1, "max prompt tokens must be >= 1, got " + maxPromptTokens);
        require(batchSize >= 1 && batchSize <= MAX_BATCH, "batch size must be in [1, " + MAX_BATCH + "], got " + batchSize);
        require(threads >= 0, "threads must be >= 0 (0 = all cores), got " + threads);
        require(backend != null && !backend.isBlank(), "backend must be given (auto, vector, reference, ...)");
        require(promptPrefix == null || !promptPrefix.isEmpty(), "prompt prefix must not be empty (null for none)");
        // fails here, on the driver, rather than in every task
        new SamplingParams(temperature, topK, topP, 0, 1, seed);
    }

    /** Greedy, 64 tokens, batches of 16, prompt column {@code prompt}, backend {@code auto}. */
    public static GenerateSpec of(String modelDir) {
        return new GenerateSpec(modelDir, "prompt", null, 64, 4096, 16, 0f, 0, 1f, 0L, true, "auto", 0, null, false, null);
    }

    public GenerateSpec withPromptColumn(String c) {
        return new GenerateSpec(modelDir, c, keyColumn, maxTokens, maxPromptTokens, batchSize, temperature, topK, topP, seed, stopOnEos, backend, threads, format, json, promptPrefix);
    }

    public GenerateSpec withKeyColumn(String c) {
        return new GenerateSpec(modelDir, promptColumn, c, maxTokens, maxPromptTokens, batchSize, temperature, topK, topP, seed, stopOnEos, backend, threads, format, json, promptPrefix);
    }

    public GenerateSpec withMaxTokens(int n) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, n, maxPromptTokens, batchSize, temperature, topK, topP, seed, stopOnEos, backend, threads, format, json, promptPrefix);
    }

    public GenerateSpec withMaxPromptTokens(int n) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, maxTokens, n, batchSize, temperature, topK, topP, seed, stopOnEos, backend, threads, format, json, promptPrefix);
    }

    public GenerateSpec withBatchSize(int n) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, maxTokens, maxPromptTokens, n, temperature, topK, topP, seed, stopOnEos, backend, threads, format, json, promptPrefix);
    }

    /** Sampling with a temperature, top-k and top-p; {@code seed} is mixed with each row's key. */
    public GenerateSpec withSampling(float t, int k, float p, long s) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, maxTokens, maxPromptTokens, batchSize, t, k, p, s, stopOnEos, backend, threads, format, json, promptPrefix);
    }

    public GenerateSpec withStopOnEos(boolean b) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, maxTokens, maxPromptTokens, batchSize, temperature, topK, topP, seed, b, backend, threads, format, json, promptPrefix);
    }

    public GenerateSpec withBackend(String name, int nThreads) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, maxTokens, maxPromptTokens, batchSize, temperature, topK, topP, seed, stopOnEos, name, nThreads, format, json, promptPrefix);
    }

    public GenerateSpec withFormat(String f) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, maxTokens, maxPromptTokens, batchSize, temperature, topK, topP, seed, stopOnEos, backend, threads, f, json, promptPrefix);
    }

    /** JSON mode on or off (see the {@code json} component). */
    public GenerateSpec withJson(boolean on) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, maxTokens, maxPromptTokens, batchSize, temperature, topK, topP, seed, stopOnEos, backend, threads, format, on, promptPrefix);
    }

    /** Every row's prompt continues {@code text} (null: none; see the {@code promptPrefix} component). */
    public GenerateSpec withPromptPrefix(String text) {
        return new GenerateSpec(modelDir, promptColumn, keyColumn, maxTokens, maxPromptTokens, batchSize, temperature, topK, topP, seed, stopOnEos, backend, threads, format, json, text);
    }

    /**
     * This spec with per-call options, as the SQL function takes them: {@code max_tokens}, {@code temperature},
     * {@code top_k}, {@code top_p}, {@code seed}, {@code max_prompt_tokens}, {@code ignore_eos}, {@code json}, {@code prompt_prefix}. Model-level
     * settings (directory, backend) are fixed at registration, so every row of a query shares one model.
     */
    public GenerateSpec withOptions(Map<String, String> options) {
        GenerateSpec s = this;
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey() == null ? "" : e.getKey().toLowerCase(Locale.ROOT);
            String v = e.getValue();
            try {
                s = switch (key) {
                    case "max_tokens" -> s.withMaxTokens(Integer.parseInt(v.trim()));
                    case "max_prompt_tokens" -> s.withMaxPromptTokens(Integer.parseInt(v.trim()));
                    case "temperature" -> s.withSampling(Float.parseFloat(v.trim()), s.topK, s.topP, s.seed);
                    case "top_k" -> s.withSampling(s.temperature, Integer.parseInt(v.trim()), s.topP, s.seed);
                    case "top_p" -> s.withSampling(s.temperature, s.topK, Float.parseFloat(v.trim()), s.seed);
                    case "seed" -> s.withSampling(s.temperature, s.topK, s.topP, Long.parseLong(v.trim()));
                    case "ignore_eos" -> s.withStopOnEos(!Boolean.parseBoolean(v.trim()));
                    case "json" -> s.withJson(Boolean.parseBoolean(v.trim()));
                    case "prompt_prefix" -> s.withPromptPrefix(v == null || v.isEmpty() ? null : v);
                    default -> throw new IllegalArgumentException("rg_generate: unknown option '" + e.getKey()
                            + "' (expected max_tokens, temperature, top_k, top_p, seed, max_prompt_tokens, ignore_eos, json, prompt_prefix)");
                };
            } catch (NumberFormatException | NullPointerException x) {
                throw new IllegalArgumentException("rg_generate: option " + e.getKey() + " = '" + v + "' is not a number");
            }
        }
        return s;
    }

    /** The generation settings for one batch; the seed is replaced per row (see {@link RowSeeds}). */
    GenerationConfig generationConfig() {
        return new GenerationConfig(maxTokens, new SamplingParams(temperature, topK, topP, 0, 1, seed), List.of(), Set.of(), stopOnEos, json);
    }

    LoadOptions loadOptions() {
        LoadOptions o = LoadOptions.defaults().withBackend(backend).withThreads(threads);
        return format == null ? o : o.withFormat(format, false);
    }

    boolean greedy() {
        return temperature == 0;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
