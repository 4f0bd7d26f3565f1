package dev.rg.server;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.generate.BatchDecoder;
import dev.rg.core.generate.DeviceTokens;
import dev.rg.core.generate.JsonConstraint;
import dev.rg.core.generate.PrefillBatch;
import dev.rg.core.generate.SharedPass;
import dev.rg.core.generate.Sampler;
import dev.rg.core.generate.StopStrings;
import dev.rg.core.generate.TokenLogprobs;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching for one model, on one thread. Each iteration:
 * <ol>
 *   <li>drops cancelled sequences (their client went away) and admits waiting requests, first come first
 *       served, while fewer than {@code maxSequences} are in flight; an admitted prompt becomes a row of the
 *       {@link PrefillBatch}, resumed from the state cache where a kept state covers a prefix of it;</li>
 *   <li>runs one prefill round: every admitted prompt advances by the same {@code c} tokens in one forward pass, so
 *       the weights are read once for all of them ({@code c} from {@link #prefillBudget}: the whole
 *       {@code --prefill-chunk} shared by the rows while nobody decodes, else about twice the decode batch; never past
 *       the shortest remaining prompt, so a long prompt costs the others a bounded delay per step, not its whole
 *       length); a fully prefilled prompt gets its first token and joins the decode batch;</li>
 *   <li>advances every decoding sequence by one token in one batched step ({@link BatchDecoder}); finished ones
 *       leave, their final state goes to the state cache and their slot is free for the next request.</li>
 * </ol>
 * So between two decode steps there is at most one prefill forward pass, of a bounded number of token-rows (plus,
 * while a prompt's own tokens are being scored for {@code echo} with {@code logprobs}, one pass of at most
 * {@link PromptScoring#CHUNK} of its positions). While
 * sequences decode, that round and the step run as one forward pass ({@link SharedPass}, {@code --shared-passes}, on
 * by default): the matmuls read the weights once for the prompt chunks and the decoding rows together.
 *
 * <p>Bursts: when prompts arrive while nobody decodes, the first round waits a moment for more arrivals (while they
 * keep coming, at most half a prefill round, see {@link #gatherNanos}; it ends as soon as every free slot is
 * taken), so that a burst, like
 * many clients sending their next request when their last ones ended together, is prefilled in one round and
 * starts decoding together, instead of the late arrivals being prefilled in rounds between the early ones' decode
 * steps (each such round stretches the decoders' inter-token gap). And a burst starts decoding together: its
 * prompts that finish prefilling early (shorter prompts) are held, first token chosen but not yet sent, until the
 * rest of the burst is prefilled (see {@link #release}), so the burst's last short rounds come before its first
 * decode step, not between its decode steps. Neither changes a result, only which prompts share a pass.
 *
 * <p>Fairness: admission is FIFO, every admitted prompt advances in every round and every member is decoded at
 * every step, so no request waits behind an unbounded stream of later ones.
 */
final class Scheduler implements AutoCloseable {
    private final Model model;
    private final ServerOptions options;
    private final ServerMetrics metrics;
    private final GemmaTokenizer tokenizer;
    private final int vocab;
    private final int padId;
    private final Set<Integer> stopIds = new HashSet<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Generation> waiting = new ArrayDeque<>();
    private final ArrayDeque<Generation> prefilling = new ArrayDeque<>();
    /**
     * Prompts whose own tokens' log-probabilities are computed first ({@code echo} with {@code logprobs}), a chunk per
     * iteration ({@link PromptScoring}), before they join the prefill batch; first come first served.
     */
    private final ArrayDeque<Generation> scoring = new ArrayDeque<>();
    private final List<Generation> decoding = new ArrayList<>();
    /**
     * Prompts of a burst that are prefilled while others of the same burst are not yet: already in the decoder, their
     * first token chosen but not yet accepted, until the whole burst starts decoding together (see {@link #release}).
     */
    private final List<Generation> held = new ArrayList<>();
    /**
     * The prompts admitted when the current burst started (nobody decoding), until none of them is prefilling; while
     * it is not empty, prompts that finish prefilling are held.
     */
    private final Set<Generation> burst = new HashSet<>();
    /** Rounds the held prompts have waited so far. */
    private int heldRounds;
    private final BatchDecoder decoder;
    private final PrefillBatch prefills;
    private final DeviceTokens deviceTokens = new DeviceTokens();
    private int[] firstTokens = new int[0];
    private final StateCache cache;
    private final Thread thread;
    /** The last pass's logits downloaded ({@link #onHost}); valid while {@link #hostValid}. */
    private float[] hostLogits = new float[0];
    private boolean hostValid;
    /** Smoothed wall time of a prefill round; NaN until the first round is measured. */
    private double roundNanos = Double.NaN;
    private volatile boolean running = true;
    /** What the state cache read from and wrote to {@code --state-cache-dir}, or null. */
    private StateCache.Persisted restored;
    private volatile StateCache.Persisted kept;
    /** Sequences prefilling or decoding; written by the scheduler thread only. */
    private volatile int inFlight;
    /**
     * Of them, those of clients (not of a /v1/batches batch), as counted at the last admission: counted again every
     * iteration, idle ones included, so it is at most an iteration late; written by the scheduler thread only.
     */
    private volatile int clientsInFlight;

    Scheduler(Model model, GemmaTokenizer tokenizer, ServerOptions options, ServerMetrics metrics) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options;
        this.metrics = metrics;
        this.vocab = model.config().vocabSize();
        this.padId = model.config().padId();
        stopIds.add(model.config().eosId());
        tokenizer.idOf("<end_of_turn>").ifPresent(stopIds::add);
        this.decoder = new BatchDecoder(model, options.maxSequences());
        this.prefills = new PrefillBatch(model, options.maxSequences());
        try (ModelState probe = model.newState(1)) {
            metrics.sequenceStateBytes(probe.stateBytes());
        }
        this.cache = new StateCache(options.stateCacheBytes());
        if (options.stateCacheDir() != null) {
            restored = cache.loadFrom(options.stateCacheDir(), model);
            metrics.cache(cache.bytes(), cache.size());
        }
        this.thread = Thread.ofPlatform().name("rg-scheduler").daemon().unstarted(this::run);
        thread.start();
    }

    /**
     * Queues a request: each of its prompts with its {@code n} choices, all sharing one event queue (see
     * {@link Generation#choices}). Its prompts wait as entries of their own, so a request of several prompts is
     * admitted prompt by prompt as slots free, in order.
     *
     * @throws ApiException 429 when the queue has no room for all of its prompts
     */
    List<Generation> submit(List<CompletionRequest> prompts) {
        return enqueue(prompts, false, false);
    }

    /**
     * Queues a request only when its sequences (prompts times choices) fit in the slots that the running and waiting
     * sequences leave free, so that it is admitted at the next iteration and never holds a place in the queue: how a
     * batch from {@code /v1/batches} yields to the requests of clients. Returns null, queuing nothing, when it does not
     * fit now.
     */
    List<Generation> submitIntoFreeSlots(List<CompletionRequest> prompts) {
        return enqueue(prompts, true, false);
    }

    /**
     * {@link #submitIntoFreeSlots}, and only while no client's request runs or waits ({@code --batch-when-idle}): a batch
     * then never shares a decode step with a client's sequences started after it.
     */
    List<Generation> submitWhenIdle(List<CompletionRequest> prompts) {
        return enqueue(prompts, true, true);
    }

    private List<Generation> enqueue(List<CompletionRequest> prompts, boolean freeSlotsOnly, boolean idleOnly) {
        List<Generation> choices = Generation.choices(prompts);
        lock.lock();
        try {
            if (!running) {
                throw ApiException.loading("the server is shutting down");
            }
            if (freeSlotsOnly && inFlight + waitingSequences() + choices.size() > options.maxSequences()) {
                return null;
            }
            if (idleOnly && (clientsInFlight > 0 || waiting.stream().anyMatch(g -> !g.background))) {
                return null;
            }
            for (Generation g : choices) {
                g.background = freeSlotsOnly;
            }
            if (inFlight + waiting.size() + prompts.size() > options.maxSequences() + options.maxQueue()) {
                throw ApiException.queueFull("the server is busy: " + waiting.size() + " requests are waiting (--max-queue "
                        + options.maxQueue() + ")" + (prompts.size() > 1 ? " and this request brings " + prompts.size() + " prompts" : "")
                        + "; retry later");
            }
            for (Generation g : choices) {
                if (g.leadsItsPrompt()) {
                    waiting.add(g); // its other choices come with it, as its forks
                }
            }
            metrics.occupancy(waiting.size(), inFlight);
            work.signal();
        } finally {
            lock.unlock();
        }
        return choices;
    }

    /** The sequences of the waiting prompts, with the choices they will fork. */
    private int waitingSequences() {
        int n = 0;
        for (Generation g : waiting) {
            n += 1 + g.forks.size();
        }
        return n;
    }

    /** Wakes the scheduler so that it notices a cancellation at once even when idle. */
    void wake() {
        lock.lock();
        try {
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (running) {
            try {
                iterate();
            } catch (RuntimeException | Error e) {
                failAll(e);
            }
        }
    }

    private void iterate() {
        lock.lock();
        try {
            dropCancelled();
            admit();
            if (occupied() == 0) {
                if (persistWhileIdle()) {
                    return;
                }
                await(TimeUnit.MILLISECONDS.toNanos(200));
                return;
            }
            if (decoding.isEmpty() && held.isEmpty() && !prefilling.isEmpty() && burstStarts()) {
                gather();
                burst.clear();
                burst.addAll(prefilling);
            }
        } finally {
            lock.unlock();
        }
        scoreStep();
        feedThroughSteps();
        if (!sharedPass()) {
            prefillRound();
            release();
            decodeStep();
        }
    }

    /**
     * With sequences decoding and prompts prefilling (and no burst being held back): this iteration's prefill round and
     * decode step as one forward pass ({@link SharedPass}), so the weights are read once for both instead of once
     * each; the decoding sequences' next token then comes after one pass, not two, where a pass is bound by that read.
     * The round's chunk is the one a round of its own would take. Returns false (nothing done) when the iteration runs
     * them apart: {@code --no-shared-passes}, nothing to prefill or decode, or more rows than one pass takes.
     */
    private boolean sharedPass() {
        if (!options.sharedPasses() || prefilling.isEmpty() || decoding.isEmpty() || !held.isEmpty() || !burst.isEmpty()) {
            return false;
        }
        int c = roundChunk();
        int rows = prefills.size();
        if (!SharedPass.fits(decoder.size(), rows, c)) {
            return false;
        }
        metrics.step(decoding.size());
        metrics.sharedPass();
        Tensor logits = SharedPass.stepAndPrefill(decoder, prefills, c);
        hostValid = false;
        stepDone(logits); // the members' tokens first: the prompts that finish below join the decoder after them
        roundDone(logits, rows, c);
        return true;
    }

    /**
     * With {@code --step-prefill N} and sequences decoding: every admitted prompt with at most N tokens left to prefill
     * joins the decoder now and is fed its remaining prompt tokens one per decode step (its logits unused until the
     * step that feeds the last, which gives its first token), instead of being prefilled in rounds between the steps.
     * A round between two steps stretches every decoding sequence's inter-token gap by the round's time; a row of a
     * step costs about what a prompt token in a round does where steps are bound by arithmetic (a CPU), and almost
     * nothing where they are bound by the weights' read (a GPU), so the gaps stay one step long. The price: the
     * prompt's first token comes after as many steps as it had tokens left, instead of after one round. Bursts that
     * arrive while nobody decodes still share prefill rounds (see the class comment).
     */
    private void feedThroughSteps() {
        int limit = options.stepPrefill();
        if (limit == 0 || decoding.isEmpty() || !held.isEmpty() || !burst.isEmpty()) {
            return;
        }
        for (Iterator<Generation> it = prefilling.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.row == null) {
                start(g);
            }
            if (g.row.remaining() > limit || !g.forks.isEmpty()) {
                continue; // (choices fork from a prefilled row, so a request with n > 1 is prefilled in rounds)
            }
            int[] rest = g.row.remainingTokens();
            g.slot = prefills.handOverUnfinished(g.row, decoder);
            g.row = null;
            g.stepPrompt = rest;
            g.slot.next(rest[0]);
            g.stepPromptFed = 1;
            it.remove();
            decoding.add(g);
            metrics.stepPrefill(rest.length);
        }
    }

    /**
     * Starts decoding the held prompts of a burst once none of the burst is still prefilling: they then decode in
     * step, and the burst's last rounds (prompts of different lengths finish in different rounds) come before its
     * first decode step instead of between its decode steps. Their first token is accepted (streamed, timed) only now,
     * so the wait counts as time to first token, not as an inter-token gap. Bounded: only while the rest of the burst
     * fits in the next round's share of the budget (a short prompt does not wait for a long one), for at most
     * {@link #MAX_HOLD_ROUNDS} rounds; later arrivals do not extend it.
     */
    private void release() {
        if (burst.isEmpty()) {
            return;
        }
        int left = 0;
        for (Generation g : prefilling) {
            if (burst.contains(g)) {
                left = Math.max(left, g.row.remaining());
            }
        }
        if (left > 0 && !held.isEmpty() && heldRounds < MAX_HOLD_ROUNDS
                && left <= prefillBudget(options.prefillChunk(), 0) / prefills.size()) {
            heldRounds++;
            return;
        }
        if (left > 0 && held.isEmpty()) {
            return; // nobody is held yet: the burst's first rounds
        }
        heldRounds = 0;
        burst.clear();
        for (Generation g : held) {
            beginDecoding(g, g.firstToken);
        }
        held.clear();
    }

    /** Accepts the first token of a fully prefilled prompt (already in the decoder); it decodes from the next step. */
    private void beginDecoding(Generation g, int first) {
        if (accept(g, first)) {
            decoder.leave(g.slot);
            g.slot = null;
            inFlight--;
        } else {
            g.slot.next(first);
            decoding.add(g);
        }
    }

    /**
     * Moves waiting requests into flight, first come first served, while there are free slots (lock held). A request
     * that only echoes its prompt ({@code max_tokens} 0, no prompt log-probabilities to compute) is answered at once. One
     * whose shared beginning another is prefilling stays behind until that one has kept it ({@link #followsAnother}).
     */
    private void admit() {
        for (Iterator<Generation> it = waiting.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (followsAnother(g)) {
                g.progressed(); // the prompt it waits for advances: its wait is not a stall
                continue; // it waits, holding no slot, and later prompts may pass it
            }
            if (occupied() + 1 + g.forks.size() > options.maxSequences()) {
                break;
            }
            it.remove();
            if (g.request.scoresPrompt()) {
                scoring.add(g);
            } else if (g.request.maxTokens() == 0) {
                metrics.admitted(g.request.prompt().length, 0);
                echoPrompt(g, unscoredPrompt(g));
                finishUngenerated(g);
            } else {
                prefilling.add(g);
            }
        }
        inFlight = occupied();
        clientsInFlight = sequences(true);
        metrics.occupancy(waiting.size(), inFlight);
    }

    /**
     * Whether {@code g} waits for a prompt already prefilling the same beginning, up to a position where both keep their
     * state in the cache (a shared system message, {@link PromptMarks}), to pass that position: it is then admitted and
     * resumes from the kept state. Prompts arriving together (a burst of chat requests, or an {@link OpenAiBatch}) would
     * otherwise all prefill the shared beginning side by side, each missing the cache, since none has kept it yet.
     */
    private boolean followsAnother(Generation g) {
        int[] marks = g.request.keepAt();
        if (!cache.enabled() || marks.length == 0) {
            return false;
        }
        int[] prompt = g.request.prompt();
        for (int m : marks) {
            if (cache.holds(prompt, m)) {
                continue; // it resumes from there itself
            }
            for (Generation lead : prefilling) {
                int[] other = lead.request.prompt();
                int reached = lead.row == null ? 0 : lead.cached + lead.row.fed();
                if (m > reached && m <= other.length && contains(lead.request.keepAt(), m)
                        && Arrays.equals(prompt, 0, m, other, 0, m)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean contains(int[] values, int v) {
        for (int x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    /** Most prefill rounds that held prompts wait for the rest of their burst. */
    static final int MAX_HOLD_ROUNDS = 2;

    /**
     * Sequences holding a slot: scoring their prompt, prefilling (with the choices that will fork from it), held or
     * decoding.
     */
    private int occupied() {
        return sequences(false);
    }

    /**
     * Sequences holding a slot, as {@link #occupied} counts them; with {@code clientsOnly}, only those a client's
     * request queued (not a /v1/batches batch).
     */
    private int sequences(boolean clientsOnly) {
        int n = 0;
        for (Generation g : scoring) {
            n += counts(g, clientsOnly) ? 1 : 0;
        }
        for (Generation g : prefilling) {
            n += counts(g, clientsOnly) ? 1 + g.forks.size() : 0; // the choices it will fork hold slots too
        }
        for (Generation g : held) {
            n += counts(g, clientsOnly) ? 1 : 0;
        }
        for (Generation g : decoding) {
            n += counts(g, clientsOnly) ? 1 : 0;
        }
        return n;
    }

    private static boolean counts(Generation g, boolean clientsOnly) {
        return !clientsOnly || !g.background;
    }

    /** Whether the next prefill round is the first of a new burst: no admitted prompt has started yet. */
    private boolean burstStarts() {
        for (Generation g : prefilling) {
            if (g.row != null) {
                return false;
            }
        }
        return true;
    }

    /**
     * With nobody decoding, waits for more requests to arrive so that they share the first prefill round (lock
     * held): while they keep coming (each arrival within {@link #quietNanos} of the previous one), for at most
     * {@link #gatherNanos} in all; ends at once when every slot is taken or the server stops.
     */
    private void gather() {
        long window = gatherNanos(roundNanos);
        long quiet = quietNanos(window);
        long now = System.nanoTime();
        long deadline = now + window;
        long quietEnd = now + quiet;
        int arrived = prefilling.size();
        while (running && occupied() < options.maxSequences()) {
            long left = Math.min(deadline, quietEnd) - System.nanoTime();
            if (left <= 0) {
                break;
            }
            await(left);
            dropCancelled();
            admit();
            if (prefilling.size() > arrived) {
                arrived = prefilling.size();
                quietEnd = System.nanoTime() + quiet;
            }
        }
    }

    /**
     * With nothing to run and {@code --state-cache-dir} set, writes one new cache entry to the directory (or removes one
     * evicted entry's file), so that a crash loses at most what was cached since the server was last idle. Called with
     * the lock held; releases it for the write (one state file: milliseconds; 17 MB for 2B), so a request arriving
     * meanwhile is queued at once and admitted before the next file. Returns whether it did a step.
     */
    private boolean persistWhileIdle() {
        if (options.stateCacheDir() == null || !cache.persistPending()) {
            return false;
        }
        lock.unlock();
        try {
            cache.persistStep(options.stateCacheDir(), model);
        } finally {
            lock.lock();
        }
        return true;
    }

    /** Most time a new burst waits for more arrivals. */
    static final long MAX_GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    /**
     * How long the first round of a burst may wait for more arrivals: half a prefill round (as measured; before the
     * first round is measured, the cap), at most {@link #MAX_GATHER_NANOS}. A request arriving within it gains a
     * whole round: it would otherwise wait for the round before it and then be prefilled between the others' decode
     * steps, stretching their inter-token gaps. The same trade as vLLM's {@code --scheduler-delay-factor}. A model
     * whose rounds take microseconds gathers for microseconds.
     */
    static long gatherNanos(double roundNanos) {
        return Double.isNaN(roundNanos) ? MAX_GATHER_NANOS : (long) Math.min(MAX_GATHER_NANOS, Math.max(0, roundNanos / 2));
    }

    /**
     * The wait ends earlier when no request has arrived for a quarter of the window: a lone request loses at most
     * that much time to first token, a burst (requests a few milliseconds apart) is gathered whole.
     */
    static long quietNanos(long window) {
        return window / 4;
    }

    private void await(long nanos) {
        try {
            work.awaitNanos(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private void dropCancelled() {
        for (Iterator<Generation> it = waiting.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.cancelled()) {
                it.remove();
                metrics.cancelled(1 + g.forks.size());
            }
        }
        for (Iterator<Generation> it = scoring.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.cancelled()) {
                it.remove();
                stopScoring(g);
                metrics.cancelled(1);
            }
        }
        for (Iterator<Generation> it = prefilling.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.cancelled()) {
                // its choices not yet forked go with it (the client that cancels one cancels them all)
                it.remove();
                leavePrefill(g);
                metrics.cancelled(1 + g.forks.size());
                g.forks.clear();
            }
        }
        for (List<Generation> members : List.of(decoding, held)) {
            for (Iterator<Generation> it = members.iterator(); it.hasNext(); ) {
                Generation g = it.next();
                if (g.cancelled()) {
                    it.remove();
                    decoder.leave(g.slot);
                    metrics.cancelled(1);
                }
            }
        }
    }

    /**
     * Prefill token-rows (rows x tokens per row) per round while sequences are decoding: twice the decode batch, at
     * least this many. A round is one forward pass, like a decode step: one read of the weights plus its rows, and a
     * prefill row costs about what a decode row does, so an iteration with a round costs at most about three decode
     * steps and the members' inter-token latency stays bounded even when prompts arrive in bursts. With nobody
     * decoding, the whole {@code --prefill-chunk} is used (nobody waits for tokens): a burst of prompts is
     * prefilled together and starts decoding together.
     */
    static final int MIN_PREFILL_WHILE_DECODING = 16;

    /** Prompt token-rows to prefill this round (see {@link #MIN_PREFILL_WHILE_DECODING}). */
    static int prefillBudget(int chunk, int decoding) {
        return decoding == 0 ? chunk : Math.min(chunk, Math.max(MIN_PREFILL_WHILE_DECODING, 2 * decoding));
    }

    /**
     * One prefill round: every admitted prompt advances by {@link PrefillBatch#chunk} tokens of the budget in one
     * forward pass; those whose prompt is done get their first token and join the decoder (in arrival order).
     */
    private void prefillRound() {
        if (prefilling.isEmpty()) {
            return;
        }
        int c = roundChunk();
        long t0 = System.nanoTime();
        int rows = prefills.size();
        Tensor logits = prefills.advance(c);
        hostValid = false;
        roundDone(logits, rows, c);
        double took = System.nanoTime() - t0;
        roundNanos = Double.isNaN(roundNanos) ? took : 0.8 * roundNanos + 0.2 * took;
    }

    /** Starts the prefill rows of newly admitted prompts; returns this round's tokens per row (within the budget). */
    private int roundChunk() {
        for (Generation g : prefilling) {
            if (g.row == null) {
                start(g);
            }
        }
        return prefills.chunk(prefillBudget(options.prefillChunk(), decoding.size()));
    }

    /**
     * After a pass that advanced the {@code rows} prompts by {@code c} tokens: those whose prompt is done get their
     * first token from their row of {@code logits} and join the decoder (in arrival order).
     */
    private void roundDone(Tensor logits, int rows, int c) {
        metrics.prefillRound(rows, c);
        for (Generation g : prefilling) {
            if (g.row != null) {
                g.progressed(); // its prompt advanced: a long prompt is not a stalled request
            }
            if (g.row != null && g.row.atMark()) {
                // a prefix other requests are likely to share (rows prefilling the same one reach it in the same round)
                int[] key = Arrays.copyOf(g.request.prompt(), g.cached + g.row.fed());
                if (!cache.touch(key)) {
                    keep(key, g.row, null, true);
                    metrics.prefixKept();
                }
                g.row.passMark();
            }
        }
        List<Generation> done = new ArrayList<>();
        for (Generation g : prefilling) {
            if (g.row.done()) {
                done.add(g);
            }
        }
        if (!done.isEmpty()) {
            List<Generation> forked = new ArrayList<>();
            int[] forkFirst = forkFirstTokens(logits, done, forked);
            int[] first = firstTokens(logits, done);
            for (int i = 0; i < done.size(); i++) {
                Generation g = done.get(i);
                prefilling.remove(g);
                if (cache.enabled()) {
                    keep(g.request.prompt(), g.row, null, false);
                }
                for (Generation f : g.forks) {
                    f.cached = g.cached;
                    f.slot = prefills.fork(g.row, decoder);
                }
                metrics.forked(g.forks.size());
                g.forks.clear();
                g.slot = prefills.handOver(g.row, decoder);
                g.row = null;
                joined(g, first[i]);
            }
            for (int i = 0; i < forked.size(); i++) {
                joined(forked.get(i), forkFirst[i]);
            }
        }
    }

    /** A prefilled sequence in the decoder with its first token: held back with the rest of its burst, or decoding. */
    private void joined(Generation g, int first) {
        if (!burst.isEmpty()) {
            g.firstToken = first;
            held.add(g);
        } else {
            beginDecoding(g, first);
        }
    }

    /**
     * The first token of each choice that forks from a prompt just finished ({@code n} > 1), added to {@code forked}:
     * drawn with its own sampler from a copy of the prompt's row of the round's logits (downloaded; drawing shapes the
     * row in place), taken before the prompt's own choice 0 draws from it.
     */
    private int[] forkFirstTokens(Tensor logits, List<Generation> done, List<Generation> forked) {
        List<Integer> first = new ArrayList<>();
        float[] row = null;
        for (Generation g : done) {
            if (g.forks.isEmpty()) {
                continue;
            }
            float[] host = onHost(logits);
            int offset = g.row.row() * vocab;
            if (row == null) {
                row = new float[vocab];
            }
            for (Generation f : g.forks) {
                prepareSampling(f);
                System.arraycopy(host, offset, row, 0, vocab);
                first.add(choose(f, row, 0));
                forked.add(f);
            }
        }
        return first.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The first token of each prompt just finished, from its row of the round's logits (still on the backend). */
    private int[] firstTokens(Tensor logits, List<Generation> done) {
        int[] first = new int[done.size()];
        boolean topK = true;
        boolean argmax = true;
        for (Generation g : done) {
            topK &= onTopK(g);
            argmax &= onArgmax(g);
        }
        Sampler[] samplers = null;
        if (topK || argmax) {
            samplers = new Sampler[logits.rows()];
            for (Generation g : done) {
                samplers[g.row.row()] = g.sampler;
            }
            if (firstTokens.length < samplers.length) {
                firstTokens = new int[samplers.length];
            }
        }
        if (deviceTokens.pick(model.griffin().kernels(), logits, samplers, padId, argmax, topK, firstTokens)) {
            for (int i = 0; i < done.size(); i++) {
                first[i] = firstTokens[done.get(i).row.row()];
            }
        } else {
            float[] host = onHost(logits);
            for (int i = 0; i < done.size(); i++) {
                Generation g = done.get(i);
                first[i] = choose(g, host, g.row.row() * vocab);
            }
        }
        return first;
    }

    /** Sets up a newly admitted sequence: its prefill row (fresh, or resumed from the cache) and its sampling. */
    private void start(Generation g) {
        int[] prompt = g.request.prompt();
        StateCache.Entry hit = cache.enabled() ? cache.longestPrefix(prompt) : null;
        if (cache.enabled()) {
            metrics.cacheLookup(hit != null);
        }
        if (hit != null) {
            g.cached = hit.key().length;
            g.row = prefills.join(Arrays.copyOfRange(prompt, g.cached, prompt.length), hit.state(), 0);
        } else {
            g.row = prefills.join(prompt);
        }
        if (cache.enabled() && g.request.keepAt().length > 0) {
            // shared prefixes (instructions, example turns) past what was resumed: rounds stop there to keep the state
            int from = g.cached;
            g.row.stopAt(Arrays.stream(g.request.keepAt()).map(p -> p - from).toArray());
        }
        if (g.request.echo()) {
            echoPrompt(g, unscoredPrompt(g));
        }
        prepare(g);
    }

    /**
     * One chunk of the first prompt waiting for its own tokens' log-probabilities ({@link PromptScoring}); once they
     * are all known, the prompt is echoed with them and joins the prefill batch for its last token, from the scoring
     * state (or, with {@code max_tokens} 0, is answered).
     */
    private void scoreStep() {
        Generation g = scoring.peek();
        if (g == null) {
            return;
        }
        if (g.scoring == null) {
            g.scoring = new PromptScoring(model, g.request.prompt(), g.request.topLogprobs());
        }
        metrics.scored(g.scoring.advance());
        g.progressed();
        if (!g.scoring.done()) {
            return;
        }
        scoring.poll();
        int[] prompt = g.request.prompt();
        echoPrompt(g, g.scoring.entries());
        if (g.request.maxTokens() == 0) {
            metrics.admitted(prompt.length, 0);
            stopScoring(g);
            finishUngenerated(g);
            inFlight--;
            return;
        }
        g.row = prefills.join(new int[] {prompt[prompt.length - 1]}, g.scoring.state(), 0);
        stopScoring(g);
        prepare(g);
        prefilling.add(g);
    }

    private static void stopScoring(Generation g) {
        if (g.scoring != null) {
            g.scoring.close();
            g.scoring = null;
        }
    }

    /** The entries of an echoed prompt that is not scored: only its one token's (unscored), or none without logprobs. */
    private static List<TokenLogprobs> unscoredPrompt(Generation g) {
        return g.request.logprobs() ? List.of(TokenLogprobs.unscored(g.request.prompt()[0])) : List.of();
    }

    /** Sends the prompt's text (and its tokens' entries) ahead of the reply ({@code echo}). */
    private void echoPrompt(Generation g, List<TokenLogprobs> entries) {
        g.emit(new Generation.Text(tokenizer.decode(g.request.prompt()), entries));
    }

    /** Ends a request that generates nothing ({@code max_tokens} 0 with {@code echo}). */
    private static void finishUngenerated(Generation g) {
        g.emit(new Generation.Done("length", g.request.prompt().length, 0, 0));
    }

    /** Sampling and streaming state of a sequence about to be prefilled. */
    private void prepare(Generation g) {
        metrics.admitted(g.request.prompt().length, g.cached);
        prepareSampling(g);
    }

    /** Sampling and streaming state of a sequence about to get its first token. */
    private void prepareSampling(Generation g) {
        int[] prompt = g.request.prompt();
        g.seen = new BitSet(vocab);
        for (int id : prompt) {
            g.seen.set(id);
        }
        g.sampler = new Sampler(g.request.sampling(), g.seen, vocab);
        g.generatedCounts = g.request.hasPenalties() ? new int[vocab] : null;
        g.generatedSet = g.request.hasPenalties() ? new BitSet(vocab) : null;
        g.decoder = tokenizer.streamingDecoder();
        g.stops = new StopStrings(g.request.stop());
        if (g.request.json()) {
            g.json = JsonConstraint.of(tokenizer); // the vocabulary's trie: built by the first JSON request
        }
    }

    private void decodeStep() {
        if (decoding.isEmpty() || !held.isEmpty()) {
            return; // (held prompts are members of the decoder without a next token; nobody decodes while they wait)
        }
        metrics.step(decoding.size());
        Tensor logits = decoder.stepOnBackend();
        hostValid = false;
        stepDone(logits);
    }

    /** After a pass that stepped the decoder: every member's next token, from its row of {@code logits}. */
    private void stepDone(Tensor logits) {
        int[] picked = pick(logits);
        for (Iterator<Generation> it = decoding.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.feedingPrompt()) {
                g.slot.next(g.stepPrompt[g.stepPromptFed++]);
                g.progressed();
                continue;
            }
            if (g.stepPrompt != null) {
                // this step fed the prompt's last token: the state has seen the whole prompt, the logits predict token 1
                g.stepPrompt = null;
                if (cache.enabled()) {
                    keep(g.request.prompt(), null, g.slot, false);
                }
            }
            int token = picked[g.slot.row()];
            if (accept(g, token)) {
                it.remove();
                if (cache.enabled()) {
                    // the state has processed the prompt and every generated token but the last (never fed)
                    int[] key = Arrays.copyOf(g.request.prompt(), g.request.prompt().length + g.generated - 1);
                    System.arraycopy(g.tokens, 0, key, g.request.prompt().length, g.generated - 1);
                    keep(key, null, g.slot, false);
                }
                decoder.leave(g.slot);
                inFlight--;
            } else {
                g.slot.next(token);
            }
        }
    }

    /**
     * The token each decoding member samples from its row of {@code logits} (indexed by row; rows of members fed a
     * prompt token, and of no member, stay 0): only k ids and values per row cross from the backend when every
     * sampling member samples from its top k, else the logits are downloaded once.
     */
    private int[] pick(Tensor logits) {
        boolean topK = true;
        boolean argmax = true;
        boolean sampled = false;
        for (Generation g : decoding) {
            if (!g.feedingPrompt()) {
                topK &= onTopK(g);
                argmax &= onArgmax(g);
                sampled = true;
            }
        }
        int[] picked = new int[logits.rows()];
        if (!sampled) {
            return picked; // every member was fed a prompt token whose prediction nobody uses
        }
        Sampler[] rows = null;
        if (topK || argmax) {
            rows = new Sampler[logits.rows()];
            for (Generation g : decoding) {
                if (!g.feedingPrompt()) {
                    rows[g.slot.row()] = g.sampler;
                }
            }
        }
        if (!deviceTokens.pick(model.griffin().kernels(), logits, rows, padId, argmax, topK, picked)) {
            float[] host = onHost(logits);
            for (Generation g : decoding) {
                if (!g.feedingPrompt()) {
                    picked[g.slot.row()] = choose(g, host, g.slot.row() * vocab);
                }
            }
        }
        return picked;
    }

    /** The last pass's logits on the host: downloaded by the first caller after the pass, then reused. */
    private float[] onHost(Tensor logits) {
        if (!hostValid) {
            long n = logits.size();
            if (hostLogits.length < n) {
                hostLogits = new float[Math.toIntExact(n)];
            }
            model.backend().download(logits, hostLogits);
            hostValid = true;
        }
        return hostLogits;
    }

    /**
     * Copies a prefilling row's or a decoding slot's state into the cache under {@code key}; {@code shared}: a prefix
     * other requests are likely to share ({@link StateCache#putShared}).
     */
    private void keep(int[] key, PrefillBatch.Row row, BatchDecoder.Slot slot, boolean shared) {
        ModelState copy = model.newState(1);
        if (row != null) {
            prefills.copyOut(row, copy, 0);
        } else {
            decoder.copyOut(slot, copy, 0);
        }
        if (shared) {
            cache.putShared(key, copy);
        } else {
            cache.put(key, copy);
        }
        metrics.cache(cache.bytes(), cache.size());
    }

    /**
     * Whether the sequence's token is the argmax of its row (greedy, and nothing that changes the row or needs all of
     * it: no penalty, {@code logit_bias}, logprobs or JSON mask).
     */
    private static boolean onArgmax(Generation g) {
        return g.generatedCounts == null && g.request.logitBias().isEmpty() && g.sampler.argmaxOnly()
                && !g.request.logprobs() && g.json == null;
    }

    /**
     * Whether the sequence samples from the k largest logits alone (top-k set, no penalty: OpenAI's penalties change
     * the logits of generated tokens, which can move them in or out of the top k, and so can {@code logit_bias}; no
     * logprobs: a token's log-probability needs the whole row's normaliser).
     */
    private static boolean onTopK(Generation g) {
        return g.generatedCounts == null && g.request.logitBias().isEmpty() && g.sampler.deviceTopK() > 0
                && !g.request.logprobs() && g.json == null;
    }

    /**
     * Applies OpenAI's frequency/presence penalties and {@code logit_bias} to the row, then samples. With
     * {@code logprobs}, the chosen token's entry is computed from the raw row (put back after the draw) into
     * {@code g.chosenLogprobs}: the model's distribution, not the shaped one.
     */
    private int choose(Generation g, float[] logits, int offset) {
        boolean shaped = g.generatedCounts != null || !g.request.logitBias().isEmpty() || g.json != null;
        if (shaped && g.request.logprobs()) {
            if (g.rawRow == null) {
                g.rawRow = new float[vocab];
            }
            System.arraycopy(logits, offset, g.rawRow, 0, vocab);
        }
        if (g.generatedCounts != null) {
            float freq = g.request.frequencyPenalty();
            float pres = g.request.presencePenalty();
            for (int t = g.generatedSet.nextSetBit(0); t >= 0; t = g.generatedSet.nextSetBit(t + 1)) {
                logits[offset + t] -= freq * g.generatedCounts[t] + pres;
            }
        }
        g.request.logitBias().addTo(logits, offset);
        if (g.json != null) {
            g.json.mask(logits, offset, vocab);
        }
        int token = g.sampler.sample(logits, offset);
        if (g.request.logprobs()) {
            if (shaped) {
                System.arraycopy(g.rawRow, 0, logits, offset, vocab);
            }
            g.chosenLogprobs = TokenLogprobs.of(logits, offset, vocab, token, g.request.topLogprobs());
        }
        return token;
    }

    /** Records a generated token and streams its text; true when the sequence is finished. */
    private boolean accept(Generation g, int token) {
        long now = System.nanoTime();
        boolean first = g.generated == 0;
        metrics.token(first, (now - (first ? g.arrivalNanos : g.lastTokenNanos)) / 1e9);
        g.lastTokenNanos = now;
        if (g.generated == g.tokens.length) {
            g.tokens = Arrays.copyOf(g.tokens, g.tokens.length * 2);
        }
        g.tokens[g.generated++] = token;
        g.seen.set(token);
        if (g.generatedCounts != null) {
            g.generatedCounts[token]++;
            g.generatedSet.set(token);
        }
        if (stopIds.contains(token) && !g.request.ignoreEos()) {
            g.chosenLogprobs = null; // end of turn is not part of the reply, nor is its entry
            finish(g, "stop", true);
            return true;
        }
        g.keepChosenLogprobs();
        if (g.json != null) {
            g.json.accept(token);
        }
        String text = g.stops.push(g.decoder.feed(token));
        if (!text.isEmpty()) {
            g.emit(new Generation.Text(text, g.takeUnsentLogprobs()));
        }
        if (g.stops.stopped()) {
            finish(g, "stop", false);
            return true;
        }
        if (g.json != null && g.json.complete()) {
            finish(g, "stop", true); // the object closed: nothing but whitespace could follow
            return true;
        }
        if (g.generated >= g.request.maxTokens()) {
            finish(g, "length", true);
            return true;
        }
        return false;
    }

    private void finish(Generation g, String reason, boolean flush) {
        if (flush) {
            String tail = g.stops.push(g.decoder.flush()) + g.stops.flush();
            if (!tail.isEmpty() || g.hasUnsentLogprobs()) {
                g.emit(new Generation.Text(tail, g.takeUnsentLogprobs()));
            }
        } else if (g.hasUnsentLogprobs()) {
            // a stop string cut the text: the tokens that made it up were generated, their entries still go out
            g.emit(new Generation.Text("", g.takeUnsentLogprobs()));
        }
        g.emit(new Generation.Done(reason, g.request.prompt().length, g.generated, g.cached));
    }

    private void leavePrefill(Generation g) {
        if (g.row != null) {
            prefills.leave(g.row);
            g.row = null;
        }
    }

    /** A failure inside the engine ends every sequence in flight with a 500 (the server keeps running). */
    private void failAll(Throwable e) {
        ApiException err = ApiException.internal("generation failed: " + e);
        lock.lock();
        try {
            for (Generation g : prefilling) {
                leavePrefill(g);
                g.emit(new Generation.Failed(err));
            }
            prefilling.clear();
            for (Generation g : scoring) {
                stopScoring(g);
                g.emit(new Generation.Failed(err));
            }
            scoring.clear();
            for (List<Generation> members : List.of(decoding, held)) {
                for (Generation g : members) {
                    decoder.leave(g.slot);
                    g.emit(new Generation.Failed(err));
                }
                members.clear();
            }
            burst.clear();
            heldRounds = 0;
        } finally {
            lock.unlock();
        }
    }

    /** What was read from {@code --state-cache-dir} at start, as a line, or null without one. */
    String restoredReport() {
        return restored == null ? null : restored.describe("resumed", options.stateCacheDir());
    }

    /** What {@link #close} wrote to {@code --state-cache-dir}, as a line, or null. */
    String keptReport() {
        StateCache.Persisted k = kept;
        return k == null ? null : k.describe("kept", options.stateCacheDir());
    }

    /**
     * Stops the thread (bounded wait) and fails what is still queued; with {@code --state-cache-dir}, writes the state
     * cache there once the thread has stopped.
     */
    @Override
    public void close() {
        running = false;
        wake();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            for (Generation g : waiting) {
                g.emit(new Generation.Failed(ApiException.loading("the server is shutting down")));
            }
            waiting.clear();
        } finally {
            lock.unlock();
        }
        if (!thread.isAlive()) {
            failAll(new IllegalStateException("the server is shutting down"));
            decoder.close();
            prefills.close();
            if (options.stateCacheDir() != null) {
                kept = cache.saveTo(options.stateCacheDir(), model);
            }
            cache.close();
        }
    }
}
