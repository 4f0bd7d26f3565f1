package dev.rg.server;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.generate.BatchDecoder;
import dev.rg.core.generate.DeviceTopK;
import dev.rg.core.generate.Sampler;
import dev.rg.core.generate.StopStrings;
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
 *       served, while fewer than {@code maxSequences} are in flight;</li>
 *   <li>prefills at most {@code prefillChunk} prompt tokens of the oldest admitted requests (while others decode,
 *       at most about twice the decode batch, see {@link #prefillBudget}), resuming from the state cache where a
 *       kept state covers a prefix, so a long prompt costs the others a bounded delay per step, not its whole
 *       length; a fully prefilled sequence gets its first token and joins the batch;</li>
 *   <li>advances every decoding sequence by one token in one batched step ({@link BatchDecoder}); finished ones
 *       leave, their final state goes to the state cache and their slot is free for the next request.</li>
 * </ol>
 * Fairness: admission and prefill are FIFO and every member is decoded at every step, so no request waits
 * behind an unbounded stream of later ones.
 */
final class Scheduler implements AutoCloseable {
    private final Model model;
    private final ServerOptions options;
    private final ServerMetrics metrics;
    private final GemmaTokenizer tokenizer;
    private final int vocab;
    private final Set<Integer> stopIds = new HashSet<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Generation> waiting = new ArrayDeque<>();
    private final ArrayDeque<Generation> prefilling = new ArrayDeque<>();
    private final List<Generation> decoding = new ArrayList<>();
    private final BatchDecoder decoder;
    private final DeviceTopK deviceTopK = new DeviceTopK();
    private final int[] firstToken = new int[1];
    private final StateCache cache;
    private final Thread thread;
    private final float[] prefillLogits;
    private volatile boolean running = true;
    /** Sequences prefilling or decoding; written by the scheduler thread only. */
    private volatile int inFlight;

    Scheduler(Model model, GemmaTokenizer tokenizer, ServerOptions options, ServerMetrics metrics) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.options = options;
        this.metrics = metrics;
        this.vocab = model.config().vocabSize();
        this.prefillLogits = new float[vocab];
        stopIds.add(model.config().eosId());
        tokenizer.idOf("<end_of_turn>").ifPresent(stopIds::add);
        this.decoder = new BatchDecoder(model, options.maxSequences());
        try (ModelState probe = model.newState(1)) {
            metrics.sequenceStateBytes(probe.stateBytes());
        }
        this.cache = new StateCache(options.stateCacheBytes());
        this.thread = Thread.ofPlatform().name("rg-scheduler").daemon().unstarted(this::run);
        thread.start();
    }

    /**
     * Queues a request.
     *
     * @throws ApiException 429 when the queue is full
     */
    Generation submit(CompletionRequest request) {
        Generation g = new Generation(request);
        lock.lock();
        try {
            if (!running) {
                throw ApiException.loading("the server is shutting down");
            }
            if (inFlight + waiting.size() >= options.maxSequences() + options.maxQueue()) {
                throw ApiException.queueFull("the server is busy: " + waiting.size() + " requests are waiting (--max-queue "
                        + options.maxQueue() + "); retry later");
            }
            waiting.add(g);
            metrics.occupancy(waiting.size(), inFlight);
            work.signal();
        } finally {
            lock.unlock();
        }
        return g;
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
            while (!waiting.isEmpty() && prefilling.size() + decoding.size() < options.maxSequences()) {
                prefilling.add(waiting.poll());
            }
            inFlight = prefilling.size() + decoding.size();
            metrics.occupancy(waiting.size(), inFlight);
            if (prefilling.isEmpty() && decoding.isEmpty()) {
                try {
                    work.await(200, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    running = false;
                }
                return;
            }
        } finally {
            lock.unlock();
        }
        prefillChunk();
        decodeStep();
    }

    private void dropCancelled() {
        for (Iterator<Generation> it = waiting.iterator(); it.hasNext(); ) {
            if (it.next().cancelled()) {
                it.remove();
                metrics.cancelled();
            }
        }
        for (Iterator<Generation> it = prefilling.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.cancelled()) {
                it.remove();
                closePrefill(g);
                metrics.cancelled();
            }
        }
        for (Iterator<Generation> it = decoding.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            if (g.cancelled()) {
                it.remove();
                decoder.leave(g.slot);
                metrics.cancelled();
            }
        }
    }

    /**
     * Prefill tokens per iteration while sequences are decoding: twice the decode batch, at least this many. A
     * prefill token costs about what a decode row does, so an iteration then costs at most about three decode
     * steps, and the members' inter-token latency stays within about 3x a plain step even when prompts arrive
     * in bursts. With nobody decoding, the whole {@code --prefill-chunk} is used (nobody waits for tokens).
     */
    static final int MIN_PREFILL_WHILE_DECODING = 16;

    /** Prompt tokens to prefill this iteration (see {@link #MIN_PREFILL_WHILE_DECODING}). */
    static int prefillBudget(int chunk, int decoding) {
        return decoding == 0 ? chunk : Math.min(chunk, Math.max(MIN_PREFILL_WHILE_DECODING, 2 * decoding));
    }

    /** Prefills up to {@link #prefillBudget} tokens, oldest request first. */
    private void prefillChunk() {
        int budget = prefillBudget(options.prefillChunk(), decoding.size());
        while (budget > 0 && !prefilling.isEmpty()) {
            Generation g = prefilling.peek();
            int[] prompt = g.request.prompt();
            if (g.prefill == null) {
                start(g);
            }
            int n = Math.min(budget, prompt.length - g.fed);
            Tensor logits = model.griffin().forward(g.prefill, Arrays.copyOfRange(prompt, g.fed, g.fed + n), n, Outputs.LAST);
            g.fed += n;
            budget -= n;
            if (g.fed < prompt.length) {
                continue;
            }
            int first;
            if (onTopK(g)) {
                deviceTopK.sample(model.griffin().kernels(), logits, new Sampler[] {g.sampler}, firstToken);
                first = firstToken[0];
            } else {
                model.backend().download(logits, prefillLogits);
                first = choose(g, prefillLogits, 0);
            }
            prefilling.poll();
            if (cache.enabled()) {
                keep(prompt, g.prefill, null);
            }
            if (accept(g, first)) {
                closePrefill(g);
                inFlight--;
            } else {
                g.slot = decoder.join(g.prefill);
                g.prefill = null;
                g.slot.next(first);
                decoding.add(g);
            }
        }
    }

    /** Sets up a newly admitted sequence: its state (fresh, or resumed from the cache) and its sampling. */
    private void start(Generation g) {
        int[] prompt = g.request.prompt();
        g.prefill = model.newState(1);
        StateCache.Entry hit = cache.enabled() ? cache.longestPrefix(prompt) : null;
        if (cache.enabled()) {
            metrics.cacheLookup(hit != null);
        }
        if (hit != null) {
            g.prefill.copySequence(hit.state(), 0, 0);
            g.fed = hit.key().length;
            g.cached = g.fed;
        }
        metrics.admitted(prompt.length, g.cached);
        g.seen = new BitSet(vocab);
        for (int id : prompt) {
            g.seen.set(id);
        }
        g.sampler = new Sampler(g.request.sampling(), g.seen, vocab);
        g.generatedCounts = g.request.hasPenalties() ? new int[vocab] : null;
        g.generatedSet = g.request.hasPenalties() ? new BitSet(vocab) : null;
        g.decoder = tokenizer.streamingDecoder();
        g.stops = new StopStrings(g.request.stop());
    }

    private void decodeStep() {
        if (decoding.isEmpty()) {
            return;
        }
        metrics.step(decoding.size());
        boolean topK = true;
        for (Generation g : decoding) {
            topK &= onTopK(g);
        }
        int[] picked;
        if (topK) {
            // only k ids and values per sequence cross from the backend
            Tensor logits = decoder.stepOnBackend();
            Sampler[] rows = new Sampler[logits.rows()];
            for (Generation g : decoding) {
                rows[g.slot.row()] = g.sampler;
            }
            picked = new int[rows.length];
            deviceTopK.sample(model.griffin().kernels(), logits, rows, picked);
        } else {
            float[] logits = decoder.step();
            picked = new int[logits.length / vocab];
            for (Generation g : decoding) {
                picked[g.slot.row()] = choose(g, logits, g.slot.row() * vocab);
            }
        }
        for (Iterator<Generation> it = decoding.iterator(); it.hasNext(); ) {
            Generation g = it.next();
            int token = picked[g.slot.row()];
            if (accept(g, token)) {
                it.remove();
                if (cache.enabled()) {
                    // the state has processed the prompt and every generated token but the last (never fed)
                    int[] key = Arrays.copyOf(g.request.prompt(), g.request.prompt().length + g.generated - 1);
                    System.arraycopy(g.tokens, 0, key, g.request.prompt().length, g.generated - 1);
                    keep(key, null, g.slot);
                }
                decoder.leave(g.slot);
                inFlight--;
            } else {
                g.slot.next(token);
            }
        }
    }

    /** Copies a state into the cache under {@code key}. */
    private void keep(int[] key, ModelState single, BatchDecoder.Slot slot) {
        ModelState copy = model.newState(1);
        if (single != null) {
            copy.copySequence(single, 0, 0);
        } else {
            decoder.copyOut(slot, copy, 0);
        }
        cache.put(key, copy);
        metrics.cache(cache.bytes(), cache.size());
    }

    /**
     * Whether the sequence samples from the k largest logits alone (top-k set, no penalty: OpenAI's penalties change
     * the logits of generated tokens, which can move them in or out of the top k).
     */
    private static boolean onTopK(Generation g) {
        return g.generatedCounts == null && g.sampler.deviceTopK() > 0;
    }

    /** Applies OpenAI's frequency/presence penalties to the row, then samples. */
    private int choose(Generation g, float[] logits, int offset) {
        if (g.generatedCounts != null) {
            float freq = g.request.frequencyPenalty();
            float pres = g.request.presencePenalty();
            for (int t = g.generatedSet.nextSetBit(0); t >= 0; t = g.generatedSet.nextSetBit(t + 1)) {
                logits[offset + t] -= freq * g.generatedCounts[t] + pres;
            }
        }
        return g.sampler.sample(logits, offset);
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
            finish(g, "stop", true);
            return true;
        }
        String text = g.stops.push(g.decoder.feed(token));
        if (!text.isEmpty()) {
            g.emit(new Generation.Text(text));
        }
        if (g.stops.stopped()) {
            finish(g, "stop", false);
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
            if (!tail.isEmpty()) {
                g.emit(new Generation.Text(tail));
            }
        }
        g.emit(new Generation.Done(reason, g.request.prompt().length, g.generated, g.cached));
    }

    private void closePrefill(Generation g) {
        if (g.prefill != null) {
            g.prefill.close();
            g.prefill = null;
        }
    }

    /** A failure inside the engine ends every sequence in flight with a 500 (the server keeps running). */
    private void failAll(Throwable e) {
        ApiException err = ApiException.internal("generation failed: " + e);
        lock.lock();
        try {
            for (Generation g : prefilling) {
                closePrefill(g);
                g.emit(new Generation.Failed(err));
            }
            prefilling.clear();
            for (Generation g : decoding) {
                decoder.leave(g.slot);
                g.emit(new Generation.Failed(err));
            }
            decoding.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Stops the thread (bounded wait) and fails what is still queued. */
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
            cache.close();
        }
    }
}
