package dev.rg.server;

import dev.rg.core.generate.SamplingParams;
import java.util.List;

/**
 * A validated completion request, ready for the scheduler.
 *
 * @param chat             true for /v1/chat/completions, false for /v1/completions
 * @param prompt           token ids, BOS first
 * @param maxTokens        most tokens to generate
 * @param sampling         temperature, top-p (and the top_k / min_p / repetition_penalty extensions), seed
 * @param frequencyPenalty OpenAI's: subtracted from a token's logit once per time it was generated
 * @param presencePenalty  OpenAI's: subtracted from a token's logit if it was generated at all
 * @param stop             stop strings (not part of the returned text)
 * @param stream           answer as server-sent events
 * @param includeUsage     streaming: send a last chunk with the usage ({@code stream_options.include_usage})
 * @param ignoreEos        keep generating past EOS and end of turn (vLLM's {@code ignore_eos} extension)
 * @param logprobs         return each generated token's log-probability (chat {@code logprobs: true}; completions
 *                         {@code logprobs: N}, N from 0)
 * @param topLogprobs      and the log-probabilities of this many most likely tokens at each position (chat
 *                         {@code top_logprobs}, completions {@code logprobs: N}); 0 without {@code logprobs}
 * @param echo             completions: the reply starts with the prompt's text (and, with {@code logprobs}, the
 *                         prompt tokens' entries: how a client scores a text); {@code maxTokens} may then be 0
 * @param logitBias        added to the listed tokens' logits before each draw ({@link LogitBias#NONE}: none)
 * @param choices          {@code n}: continuations of the prompt, prefilled once and then decoded as sequences of their
 *                         own; choice {@code i} samples with seed {@code seed + i} ({@link #forChoice})
 * @param json             JSON mode ({@code response_format: {"type": "json_object"}}): only tokens that keep the reply a
 *                         prefix of a JSON object are drawn, and the reply ends when the object closes
 * @param keepAt           prompt positions where its state is also kept in the state cache, as prefixes other
 *                         requests share ({@link PromptMarks}); empty: only its end
 */
record CompletionRequest(boolean chat, int[] prompt, int maxTokens, SamplingParams sampling, float frequencyPenalty,
        float presencePenalty, List<String> stop, boolean stream, boolean includeUsage,
        boolean ignoreEos, boolean logprobs, int topLogprobs, boolean echo, LogitBias logitBias, int choices, boolean json,
        int[] keepAt) {
    /**
     * The request as choice {@code i} of its {@code n} runs it: its seed is {@code seed + i}, so a seeded request gives the
     * same choices every time, and choice 0 is what the request with {@code n} = 1 gives.
     */
    CompletionRequest forChoice(int i) {
        if (i == 0) {
            return this;
        }
        SamplingParams s = sampling;
        SamplingParams seeded = new SamplingParams(s.temperature(), s.topK(), s.topP(), s.minP(), s.repetitionPenalty(), s.seed() + i);
        return new CompletionRequest(chat, prompt, maxTokens, seeded, frequencyPenalty, presencePenalty, stop, stream, includeUsage,
                ignoreEos, logprobs, topLogprobs, echo, logitBias, choices, json, keepAt);
    }

    /** Whether the prompt's tokens need their log-probabilities: a forward pass that keeps every position's logits. */
    boolean scoresPrompt() {
        return echo && logprobs && prompt.length > 1;
    }

    boolean hasPenalties() {
        return frequencyPenalty != 0 || presencePenalty != 0;
    }
}
