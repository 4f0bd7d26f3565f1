package dev.rg.core.generate;

import java.util.List;
import java.util.Set;

/**
 * What to generate.
 *
 * @param maxNewTokens  upper bound on generated tokens (&gt;= 1; generation length is otherwise unbounded: the
 *                      state is fixed-size)
 * @param sampling      how tokens are chosen
 * @param stopStrings   texts that end generation (not included in the output)
 * @param stopIds       token ids that end generation, in addition to EOS and {@code <end_of_turn>} when
 *                      {@code stopOnEos}
 * @param stopOnEos     whether EOS (1) and {@code <end_of_turn>} (107) end generation
 */
public record GenerationConfig(int maxNewTokens, SamplingParams sampling, List<String> stopStrings, Set<Integer> stopIds,
        boolean stopOnEos, boolean json) {
    /** A generous limit that still catches a typo such as an extra zero of zeros. */
    public static final int MAX_TOKENS_LIMIT = 100_000_000;

    public GenerationConfig {
        if (maxNewTokens < 1 || maxNewTokens > MAX_TOKENS_LIMIT) {
            throw new IllegalArgumentException("max new tokens must be in [1, " + MAX_TOKENS_LIMIT + "], got " + maxNewTokens);
        }
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string must not be empty");
            }
        }
        stopIds = Set.copyOf(stopIds);
    }

    /** Without JSON mode. */
    public GenerationConfig(int maxNewTokens, SamplingParams sampling, List<String> stopStrings, Set<Integer> stopIds,
            boolean stopOnEos) {
        this(maxNewTokens, sampling, stopStrings, stopIds, stopOnEos, false);
    }

    /**
     * JSON mode on or off: only tokens that keep the text a prefix of a JSON object are drawn ({@link JsonConstraint}),
     * and generation stops when the object closes ({@link StopReason#JSON_COMPLETE}).
     */
    public GenerationConfig withJson(boolean on) {
        return new GenerationConfig(maxNewTokens, sampling, stopStrings, stopIds, stopOnEos, on);
    }

    /** Greedy, {@code maxNewTokens} tokens, stopping on EOS / end of turn. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return new GenerationConfig(maxNewTokens, SamplingParams.greedy(), List.of(), Set.of(), true);
    }

    public GenerationConfig withSampling(SamplingParams s) {
        return new GenerationConfig(maxNewTokens, s, stopStrings, stopIds, stopOnEos, json);
    }
}
