package dev.rg.server;

import dev.rg.core.generate.BatchDecoder;
import dev.rg.core.generate.PrefillBatch;
import dev.rg.core.generate.Sampler;
import dev.rg.core.generate.StopStrings;
import dev.rg.core.generate.TokenLogprobs;
import dev.rg.core.tokenizer.StreamingDecoder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One request's sequence inside the {@link Scheduler}. The scheduler thread owns every field except the
 * event queue (read by the HTTP handler) and the cancel flag (set by it when the client goes away).
 */
final class Generation {
    /** What the HTTP handler receives, in order: text pieces, then one {@link Done} or {@link Failed}. */
    sealed interface Event permits Text, Done, Failed {}

    /**
     * Streamed text, and the log-probabilities of the tokens generated since the last event (empty unless the request
     * asked for them; a token whose text is still held back, an incomplete character or a possible stop string, comes
     * with the text that releases it).
     */
    record Text(String text, List<TokenLogprobs> logprobs) implements Event {
        Text(String text) {
            this(text, List.of());
        }
    }

    /**
     * The end.
     *
     * @param finishReason "stop" (end of turn, EOS or a stop string) or "length" (max tokens)
     */
    record Done(String finishReason, int promptTokens, int completionTokens, int cachedTokens) implements Event {}

    /** The generation failed on the server. */
    record Failed(ApiException error) implements Event {}

    final CompletionRequest request;
    final long arrivalNanos = System.nanoTime();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile boolean cancelled;

    // scheduler-thread state
    /** Its prompt's own log-probabilities being computed ({@code echo} with {@code logprobs}); null otherwise. */
    PromptScoring scoring;
    /** Its row in the scheduler's prefill batch while its prompt is prefilled (null before and after). */
    PrefillBatch.Row row;
    int cached;
    /** Its first token, chosen when its prompt was prefilled, while it is held for the rest of its burst. */
    int firstToken;
    BatchDecoder.Slot slot;
    /**
     * Prompt tokens it is still fed through decode steps (see Scheduler#feedThroughSteps), one per step, its logits
     * unused until the step that feeds the last; null when its prompt was prefilled in rounds.
     */
    int[] stepPrompt;
    /** How many of {@link #stepPrompt} have been set as the next token so far. */
    int stepPromptFed;
    Sampler sampler;
    BitSet seen;
    int[] generatedCounts;
    BitSet generatedSet;
    StreamingDecoder decoder;
    StopStrings stops;
    int[] tokens = new int[16];
    int generated;
    long lastTokenNanos;
    /** With {@code logprobs} and penalties or {@code logit_bias}: the raw row, kept while the shaped one is sampled. */
    float[] rawRow;
    /** With {@code logprobs}: the entry of the token just chosen, until {@link Scheduler} accepts the token. */
    TokenLogprobs chosenLogprobs;
    /** With {@code logprobs}: the entries of accepted tokens not yet sent with a {@link Text}. */
    private List<TokenLogprobs> unsentLogprobs = new ArrayList<>();

    Generation(CompletionRequest request) {
        this.request = request;
    }

    /**
     * Whether the token of the coming (or, after it, the last) step is a prompt token other than the prompt's last: that
     * step's logits for it are not a prediction anybody uses. False once the last prompt token is set.
     */
    boolean feedingPrompt() {
        return stepPrompt != null && stepPromptFed < stepPrompt.length;
    }

    /** Queues the chosen token's entry to go with the next text (a request without logprobs has none). */
    void keepChosenLogprobs() {
        if (chosenLogprobs != null) {
            unsentLogprobs.add(chosenLogprobs);
            chosenLogprobs = null;
        }
    }

    /** Whether entries wait for a text to go with. */
    boolean hasUnsentLogprobs() {
        return !unsentLogprobs.isEmpty();
    }

    /** The entries not yet sent, handed over (the next ones start a new list). */
    List<TokenLogprobs> takeUnsentLogprobs() {
        if (unsentLogprobs.isEmpty()) {
            return List.of();
        }
        List<TokenLogprobs> taken = unsentLogprobs;
        unsentLogprobs = new ArrayList<>();
        return taken;
    }

    /** Asks the scheduler to drop this sequence; it leaves the batch before the next step. */
    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    void emit(Event e) {
        events.add(e);
    }

    /** The next event, or null if none came within the timeout. */
    Event next(long timeout, TimeUnit unit) throws InterruptedException {
        return events.poll(timeout, unit);
    }
}
