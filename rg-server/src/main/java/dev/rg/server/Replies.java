package dev.rg.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.generate.TokenLogprobs;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A request's choices as the scheduler produces them, read back: event by event (for a stream) or collected into the
 * whole completion body. Shared by the HTTP handler and {@link OpenAiBatch}, so a batch row's body is the one the
 * endpoint would have answered.
 */
final class Replies {
    /** Longest a request waits for its next token before it is failed (bounds every wait; a step takes milliseconds). */
    private static final long STALL_LIMIT_NANOS = TimeUnit.MINUTES.toNanos(10);

    private Replies() {}

    /**
     * The whole (non-streamed) completion of {@code choices}: their texts, log-probabilities if asked for, finish
     * reasons and usage, in the body OpenAI's endpoint answers.
     *
     * @throws ApiException a choice's failure
     */
    static ObjectNode whole(List<Generation> choices, boolean chat, OpenAiJson json, GemmaTokenizer tokenizer, String id,
            long created) {
        int n = choices.size();
        CompletionRequest request = choices.get(0).request;
        StringBuilder[] texts = new StringBuilder[n];
        List<List<TokenLogprobs>> logprobs = new ArrayList<>();
        Generation.Done[] done = new Generation.Done[n];
        for (int i = 0; i < n; i++) {
            texts[i] = new StringBuilder();
            logprobs.add(new ArrayList<>());
        }
        for (int finished = 0; finished < n; ) {
            Generation.Choice c = next(choices);
            switch (c.event()) {
                case Generation.Text t -> {
                    texts[c.index()].append(t.text());
                    logprobs.get(c.index()).addAll(t.logprobs());
                }
                case Generation.Failed f -> throw f.error();
                case Generation.Done d -> {
                    done[c.index()] = d;
                    finished++;
                }
            }
        }
        List<OpenAiJson.Reply> replies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ObjectNode lp = null;
            if (request.logprobs()) {
                LogprobsJson render = json.logprobs(tokenizer);
                lp = chat ? render.chat(logprobs.get(i)) : render.completion(logprobs.get(i));
            }
            replies.add(new OpenAiJson.Reply(texts[i].toString(), lp, done[i].finishReason()));
        }
        return json.completion(id, created, chat, replies, usage(choices, done));
    }

    /**
     * The usage of a request's choices: each prompt (and its cached part) once, however many choices continue it, and
     * the tokens every choice generated.
     */
    static Generation.Done usage(List<Generation> choices, Generation.Done[] done) {
        int prompt = 0;
        int cached = 0;
        int completion = 0;
        for (int i = 0; i < done.length; i++) {
            completion += done[i].completionTokens();
            if (choices.get(i).leadsItsPrompt()) {
                prompt += done[i].promptTokens();
                cached += done[i].cachedTokens();
            }
        }
        return new Generation.Done(done[0].finishReason(), prompt, completion, cached);
    }

    /**
     * The next event of any of the request's choices; fails the request if for {@link #STALL_LIMIT_NANOS} the
     * scheduler neither produced an event nor advanced one of its prompts (a queue that does not move, or a scheduler
     * that hangs).
     */
    static Generation.Choice next(List<Generation> choices) {
        return next(choices, STALL_LIMIT_NANOS, System::nanoTime);
    }

    /** {@link #next(List)} with its limit and clock given (tests). */
    static Generation.Choice next(List<Generation> choices, long limitNanos, java.util.function.LongSupplier clock) {
        long since = clock.getAsLong();
        try {
            while (true) {
                Generation.Choice c = choices.get(0).next(200, TimeUnit.MILLISECONDS);
                if (c != null) {
                    return c;
                }
                for (Generation g : choices) {
                    since = Math.max(since, g.progressNanos());
                }
                if (clock.getAsLong() - since > limitNanos) {
                    break;
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        return new Generation.Choice(0, new Generation.Failed(ApiException.internal("the request made no progress for "
                + TimeUnit.NANOSECONDS.toMinutes(limitNanos) + " minutes; it was dropped")));
    }
}
