package dev.rg.core.generate;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.tokenizer.GemmaTokenizer;
import dev.rg.core.tokenizer.StreamingDecoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Set;

/**
 * Generates for a stream of prompts with continuous batching: up to {@code capacity} sequences decode together, and
 * when one finishes the next prompt is prefilled and joins the following step, so no slot idles while a long row
 * runs (what {@link BatchGenerator}'s fixed batches do: a finished row keeps its slot until the whole batch is done).
 *
 * <p>Each prompt is prefilled alone and sampled with its own seed, exactly as {@link BatchGenerator} does, and a
 * decode step's rows do not depend on their neighbours (bit for bit on the reference backend and for the vector
 * backend's dense formats), so every result is the one {@link BatchGenerator} gives for that prompt and seed, in any
 * company; only the order in which results arrive differs (as rows finish).
 *
 * <p>Not thread-safe; one run at a time. The {@link Model} may be shared.
 */
public final class ContinuousGenerator {
    /** A prompt to generate for: token ids (BOS first) and its sampling seed; {@code index} comes back with its result. */
    public record Job(long index, int[] ids, long seed) {
        public Job {
            if (ids.length == 0) {
                throw new IllegalArgumentException("prompt " + index + " is empty");
            }
        }
    }

    /** Where prompts come from. */
    public interface Source {
        /**
         * The next prompt, or null when none is to start now: either the source is {@link #exhausted()}, or its
         * consumer wants finished rows first (then at least one row must be running).
         */
        Job next();

        /** Whether no prompt will come any more. */
        boolean exhausted();
    }

    /** Where results go, as rows finish; false stops the run (the reader has gone away). */
    public interface Sink {
        boolean accept(long index, GenerationResult result);
    }

    private final Model model;
    private final GemmaTokenizer tokenizer;

    /** @param tokenizer may be null (then results have no text) */
    public ContinuousGenerator(Model model, GemmaTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** One running sequence. */
    private final class Row {
        final Job job;
        final BitSet seen;
        final Sampler sampler;
        final JsonConstraint json;
        final StreamingDecoder decoder;
        final StopStrings watcher;
        int[] tokens;
        int count;
        StopReason reason;
        long prefillNanos;
        long decodeStart;
        /** Its prefilled state until it joins the decoder (which then owns it). */
        ModelState state;
        BatchDecoder.Slot slot;

        Row(Job job, GenerationConfig config, int vocab) {
            this.job = job;
            BitSet seen = new BitSet(vocab);
            for (int id : job.ids()) {
                if (id >= 0 && id < vocab) {
                    seen.set(id);
                }
            }
            this.sampler = BatchGenerator.sampler(config, job.seed(), seen, vocab);
            this.json = config.json() ? JsonConstraint.of(tokenizer) : null;
            boolean watch = tokenizer != null && !config.stopStrings().isEmpty();
            this.decoder = watch ? tokenizer.streamingDecoder() : null;
            this.watcher = watch ? new StopStrings(config.stopStrings()) : null;
            this.tokens = new int[Math.min(config.maxNewTokens(), 256)];
            this.seen = seen;
        }

        /** Takes the token chosen for this row; true when the row is done (in the order {@link BatchGenerator} checks). */
        boolean accept(int token, Set<Integer> stopIds, int maxTokens) {
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, Math.min(maxTokens, 2 * count));
            }
            tokens[count++] = token;
            seen.set(token);
            if (json != null) {
                json.accept(token);
            }
            if (stopIds.contains(token)) {
                reason = StopReason.STOP_TOKEN;
            } else if (decoder != null && BatchGenerator.stopsAt(decoder, watcher, token)) {
                reason = StopReason.STOP_STRING;
            } else if (json != null && json.complete()) {
                reason = StopReason.JSON_COMPLETE;
            } else if (count == maxTokens) {
                reason = StopReason.MAX_TOKENS;
            }
            return reason != null;
        }

        GenerationResult result(Set<Integer> stopIds, List<String> stopStrings) {
            int[] ids = Arrays.copyOf(tokens, count);
            StopReason[] reasons = {reason};
            String text = tokenizer == null ? "" : BatchGenerator.textOf(tokenizer, ids, stopIds, stopStrings, reasons, 0);
            return new GenerationResult(job.ids().length, ids, text, reasons[0], prefillNanos,
                    decodeStart == 0 ? 0 : System.nanoTime() - decodeStart);
        }
    }

    /**
     * Runs every prompt of {@code source} through at most {@code capacity} sequences at a time, handing each result to
     * {@code sink} as its row finishes.
     *
     * @return false if the sink stopped the run
     * @throws IllegalStateException if the source holds prompts back while no row is running (it would wait forever)
     */
    public boolean run(Source source, GenerationConfig config, int capacity, Sink sink) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        int vocab = model.config().vocabSize();
        Set<Integer> stopIds = BatchGenerator.stopIds(model, tokenizer, config);
        float[] row = new float[vocab];
        DeviceTopK topK = new DeviceTopK();
        List<Row> running = new ArrayList<>();
        Buffers buffers = new Buffers(capacity, vocab);
        try (BatchDecoder decoder = new BatchDecoder(model, capacity)) {
            while (true) {
                while (decoder.hasRoom()) {
                    Job job = source.next();
                    if (job == null) {
                        break;
                    }
                    Row r = start(job, config, vocab, row, topK, stopIds);
                    if (r.reason != null) {
                        if (!sink.accept(job.index(), r.result(stopIds, config.stopStrings()))) {
                            return false;
                        }
                        continue;
                    }
                    r.slot = decoder.join(r.state);
                    r.state = null; // the decoder owns and closed it
                    r.decodeStart = System.nanoTime();
                    r.slot.next(r.tokens[r.count - 1]);
                    running.add(r);
                }
                if (running.isEmpty()) {
                    if (source.exhausted()) {
                        return true;
                    }
                    throw new IllegalStateException("the prompt source holds prompts back while no row is running");
                }
                if (!step(decoder, running, config, buffers, topK, stopIds, sink)) {
                    return false;
                }
            }
        } finally {
            for (Row r : running) {
                if (r.state != null) {
                    r.state.close();
                }
            }
        }
    }

    /** A step's host buffers, allocated once per run for {@code capacity} rows (a 2B row of logits is 1 MB). */
    private static final class Buffers {
        final int vocab;
        final Sampler[][] samplers;
        final int[] next;
        final float[] logits;

        Buffers(int capacity, int vocab) {
            this.vocab = vocab;
            this.samplers = new Sampler[capacity + 1][];
            for (int n = 0; n <= capacity; n++) {
                samplers[n] = new Sampler[n]; // DeviceTopK reads one sampler per row of the step, so one array per size
            }
            this.next = new int[capacity];
            this.logits = new float[capacity * vocab];
        }
    }

    /** One decode step of every running row; finished rows leave and go to the sink. */
    private boolean step(BatchDecoder decoder, List<Row> running, GenerationConfig config, Buffers buffers, DeviceTopK topK,
            Set<Integer> stopIds, Sink sink) {
        int vocab = buffers.vocab;
        Sampler[] samplers = buffers.samplers[decoder.size()];
        int[] next = buffers.next;
        Tensor out = decoder.stepOnBackend();
        for (Row r : running) {
            samplers[r.slot.row()] = r.sampler;
        }
        if (config.json() || !DeviceTopK.applies(samplers)) {
            float[] logits = buffers.logits;
            model.backend().download(out, logits);
            for (Row r : running) {
                int at = r.slot.row() * vocab;
                if (r.json != null) {
                    r.json.mask(logits, at, vocab);
                }
                next[r.slot.row()] = r.sampler.sample(logits, at);
            }
        } else {
            // only k ids and values per row cross from the backend
            topK.sample(model.griffin().kernels(), out, samplers, next);
        }
        for (int i = 0; i < running.size(); ) {
            Row r = running.get(i);
            int token = next[r.slot.row()];
            if (r.accept(token, stopIds, config.maxNewTokens())) {
                decoder.leave(r.slot);
                running.remove(i);
                if (!sink.accept(r.job.index(), r.result(stopIds, config.stopStrings()))) {
                    return false;
                }
            } else {
                r.slot.next(token);
                i++;
            }
        }
        return true;
    }

    /** Prefills a prompt alone and draws its first token, as {@link BatchGenerator} does. */
    private Row start(Job job, GenerationConfig config, int vocab, float[] row, DeviceTopK topK, Set<Integer> stopIds) {
        Row r = new Row(job, config, vocab);
        long t0 = System.nanoTime();
        ModelState one = model.newState(1);
        try {
            Tensor logits = model.griffin().forward(one, job.ids(), job.ids().length, Outputs.LAST);
            int first;
            if (r.json != null) {
                model.backend().download(logits, row);
                r.json.mask(row, 0, vocab);
                first = r.sampler.sample(row, 0);
            } else if (r.sampler.deviceTopK() > 0) {
                int[] picked = new int[1];
                topK.sample(model.griffin().kernels(), logits, new Sampler[] {r.sampler}, picked);
                first = picked[0];
            } else {
                model.backend().download(logits, row);
                first = r.sampler.sample(row, 0);
            }
            r.prefillNanos = System.nanoTime() - t0;
            r.accept(first, stopIds, config.maxNewTokens());
            if (r.reason == null) {
                r.state = one;
                one = null;
            }
            return r;
        } finally {
            if (one != null) {
                one.close();
            }
        }
    }
}
