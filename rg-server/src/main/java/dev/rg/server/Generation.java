package dev.rg.server;

import dev.rg.core.generate.BatchDecoder;
import dev.rg.core.generate.JsonConstraint;
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
 * One sequence inside the {@link Scheduler}: a request, or one of its {@code n} choices. The scheduler thread owns
 * every field except the event queue (read by the HTTP handler) and the cancel flag (set by it when the client goes
 * away).
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

    /** An event of choice {@code index} of the request ({@code n} choices share one queue, in the order they happen). */
    record Choice(int index, Event event) {}

    final CompletionRequest request;
    /** Which of the request's choices this is (0 for a request with {@code n} = 1). */
    final int index;
    final long arrivalNanos = System.nanoTime();
    private final BlockingQueue<Choice> events;
    private volatile boolean cancelled;
    /**
     * When the scheduler last advanced its prompt (a prefill round, a scoring chunk, a prompt token fed through a step),
     * or its arrival: the stall limit ({@link Replies#next}) counts from here or from its last event, so a long prompt
     * that takes minutes to prefill is not a stalled request.
     */
    private volatile long progressNanos = arrivalNanos;
    /**
     * Choice 0 of a request with {@code n} > 1 carries the other choices until its prompt is prefilled: they start from
     * copies of its state ({@code Scheduler#fork}), so the prompt is prefilled once. Empty otherwise, and once forked.
     */
    final List<Generation> forks = new ArrayList<>();

    /** Queued by a batch of /v1/batches rather than by a client (set before it is queued). */
    boolean background;

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
    /** In JSON mode: the object generated so far, which masks the tokens that cannot continue it; null otherwise. */
    JsonConstraint json;
    int[] tokens = new int[16];
    int generated;
    long lastTokenNanos;
    /** With {@code logprobs} and penalties or {@code logit_bias}: the raw row, kept while the shaped one is sampled. */
    float[] rawRow;
    /** With {@code logprobs}: the entry of the token just chosen, until {@link Scheduler} accepts the token. */
    TokenLogprobs chosenLogprobs;
    /** With {@code logprobs}: the entries of accepted tokens not yet sent with a {@link Text}. */
    private List<TokenLogprobs> unsentLogprobs = new ArrayList<>();

    private Generation(CompletionRequest request, int index, BlockingQueue<Choice> events) {
        this.request = request;
        this.index = index;
        this.events = events;
    }

    /**
     * The choices of an HTTP request's prompts (one prompt, or several from a completions {@code prompt} array), all
     * sharing one event queue: prompt {@code p}'s choice {@code i} has index {@code p * n + i}, as OpenAI numbers them.
     * Each prompt's choice 0 comes first and carries that prompt's other choices as its {@link #forks}.
     */
    static List<Generation> choices(List<CompletionRequest> prompts) {
        BlockingQueue<Choice> events = new LinkedBlockingQueue<>();
        List<Generation> all = new ArrayList<>();
        for (CompletionRequest request : prompts) {
            int first = all.size();
            for (int i = 0; i < request.choices(); i++) {
                all.add(new Generation(request.forChoice(i), first + i, events));
            }
            all.get(first).forks.addAll(all.subList(first + 1, all.size()));
        }
        return all;
    }

    /** Whether this is its prompt's choice 0, the sequence that prefills the prompt (and forks the others). */
    boolean leadsItsPrompt() {
        return index % request.choices() == 0;
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

    /** The scheduler advanced its prompt just now. */
    void progressed() {
        progressedAt(System.nanoTime());
    }

    void progressedAt(long nanos) {
        progressNanos = nanos;
    }

    long progressNanos() {
        return progressNanos;
    }

    /** Asks the scheduler to drop this sequence; it leaves the batch before the next step. */
    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    void emit(Event e) {
        events.add(new Choice(index, e));
    }

    /** The next event of any choice of the request, or null if none came within the timeout. */
    Choice next(long timeout, TimeUnit unit) throws InterruptedException {
        return events.poll(timeout, unit);
    }
}
