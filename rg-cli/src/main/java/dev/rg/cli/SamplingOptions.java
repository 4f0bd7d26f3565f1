package dev.rg.cli;

import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** Sampling and stopping options of generate and chat. */
final class SamplingOptions {
    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "128",
            description = "Maximum new tokens (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0",
            description = "0 = greedy (default), else sampling temperature.")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Keep the K most likely tokens (0 = off).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling threshold (1 = off).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0", description = "Drop tokens below P x the top probability (0 = off).")
    float minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1", description = "Penalise tokens already seen (1 = off).")
    float repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed: same seed, same output.")
    long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text appears (repeatable).")
    List<String> stops = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Do not stop at EOS / <end_of_turn>.")
    boolean ignoreEos;

    @Option(names = "--json", description = "JSON mode: only tokens that keep the output a JSON object are drawn, and it"
            + " stops when the object closes (ask for JSON in the prompt).")
    boolean json;

    GenerationConfig config() {
        // checked here too, so that the message names the option (GenerationConfig's names the field)
        if (maxTokens < 1 || maxTokens > GenerationConfig.MAX_TOKENS_LIMIT) {
            throw new IllegalArgumentException("--max-tokens must be in [1, " + GenerationConfig.MAX_TOKENS_LIMIT + "], got "
                    + maxTokens);
        }
        if (stops.contains("")) {
            throw new IllegalArgumentException("--stop must not be empty");
        }
        SamplingParams s = new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed);
        return new GenerationConfig(maxTokens, s, stops, Set.of(), !ignoreEos, json);
    }
}
