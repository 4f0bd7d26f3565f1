package dev.rg.core.generate;

/**
 * The outcome of one generation.
 *
 * @param promptTokens    tokens fed before generating (this turn)
 * @param tokens          generated token ids (a stop token is included when it ended generation)
 * @param text            generated text (without a matched stop string)
 * @param reason          why it ended
 * @param prefillNanos    time spent feeding the prompt
 * @param decodeNanos     time spent generating
 */
public record GenerationResult(int promptTokens, int[] tokens, String text, StopReason reason, long prefillNanos,
        long decodeNanos) {

    /** Prompt tokens per second (0 when nothing was fed). */
    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    /** Generated tokens per second (each generated token costs one decode step, the first comes from the prefill). */
    public double decodeTokensPerSecond() {
        int steps = Math.max(0, tokens.length - 1);
        return decodeNanos == 0 ? 0 : steps * 1e9 / decodeNanos;
    }
}
