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
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Generates for a stream of prompts with continuous batching: up to {@code capacity} sequences decode together, and
 * when one finishes the next prompt is prefilled and joins the following step, so no slot idles while a long row
 * runs. {@link BatchGenerator} is a run of this over a fixed set of prompts.
 *
 * <p>Each prompt is prefilled alone and sampled with its own seed, and a decode step's rows do not depend on their
 * neighbours (bit for bit on the reference backend and for the vector backend's dense formats; the vector backend's
 * int8/NF4 batches are only within kernel tolerance of a row decoded alone), so a row's result does not depend on
 * what else runs beside it; only the order in which results arrive does (as rows finish).
 *
 * <p>Not thread-safe; one run at a time. The {@link Model} may be shared.
 */
public final class ContinuousGenerator {
    /**
     * A prompt to generate for: token ids and its sampling seed; {@code index} comes back with its result. Without a
     * prefix the ids start with BOS; with one ({@link PromptPrefix}, processed once and shared), they are the tokens
     * after it, and the row starts from a copy of its state. {@code maxTokens} is the
     * row's own token budget, or 0 for the run's ({@link GenerationConfig#maxNewTokens()}).
     */
    public record Job(long index, int[] ids, long seed, PromptPrefix prefix, int maxTokens) {
        public Job {
            if (ids.length == 0) {
                throw new IllegalArgumentException("prompt " + index + " is empty");
            }
            if (maxTokens < 0 || maxTokens > GenerationConfig.MAX_TOKENS_LIMIT) {
                throw new IllegalArgumentException("max tokens of prompt " + index + " must be in [1, "
                        + GenerationConfig.MAX_TOKENS_LIMIT + "] (0 for the run's), got " + maxTokens);
            }
        }

        public Job(long index, int[] ids, long seed, PromptPrefix prefix) {
            this(index, ids, seed, prefix, 0);
        }

        public Job(long index, int[] ids, long seed) {
            this(index, ids, seed, null, 0);
        }
    }

    /** A row that ended: its job's index and its result. */
    public record Finished(long index, GenerationResult result) {}

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
        /** Its token budget: the job's own, else the run's. */
        final int maxTokens;
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
            if (job.prefix() != null) {
                for (int id : job.prefix().ids()) {
                    seen.set(id);
                }
            }
            for (int id : job.ids()) {
                if (id >= 0 && id < vocab) {
                    seen.set(id);
                }
            }
            this.sampler = sampler(config, job.seed(), seen, vocab);
            this.json = config.json() ? JsonConstraint.of(tokenizer) : null;
            boolean watch = tokenizer != null && !config.stopStrings().isEmpty();
            this.decoder = watch ? tokenizer.streamingDecoder() : null;
            this.watcher = watch ? new StopStrings(config.stopStrings()) : null;
            this.maxTokens = job.maxTokens() > 0 ? job.maxTokens() : config.maxNewTokens();
            this.tokens = new int[Math.min(maxTokens, 256)];
            this.seen = seen;
        }

        /** Takes the token chosen for this row; true when the row is done (checked in {@link Session}'s order). */
        boolean accept(int token, Set<Integer> stopIds) {
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
            } else if (decoder != null && stopsAt(decoder, watcher, token)) {
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
            String text = tokenizer == null ? "" : textOf(tokenizer, ids, stopIds, stopStrings);
            int promptTokens = job.ids().length + (job.prefix() == null ? 0 : job.prefix().length());
            return new GenerationResult(promptTokens, ids, text, reason, prefillNanos,
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
        try (Run run = open(config, capacity)) {
            while (true) {
                while (run.hasRoom()) {
                    Job job = source.next();
                    if (job == null) {
                        break;
                    }
                    Finished f = run.add(job);
                    if (f != null && !sink.accept(f.index(), f.result())) {
                        return false;
                    }
                }
                if (run.running() == 0) {
                    if (source.exhausted()) {
                        return true;
                    }
                    throw new IllegalStateException("the prompt source holds prompts back while no row is running");
                }
                for (Finished f : run.step()) {
                    if (!sink.accept(f.index(), f.result())) {
                        return false;
                    }
                }
            }
        }
    }

    /**
     * Opens a run to drive step by step (for a caller that pulls results, such as a Spark partition's iterator): rows
     * {@link Run#add join} while there is room and {@link Run#step} advances them all.
     */
    public Run open(GenerationConfig config, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        return new Run(config, capacity);
    }

    /** Up to {@code capacity} rows decoding together. Close it to free the batch state. */
    public final class Run implements AutoCloseable {
        private final GenerationConfig config;
        private final int vocab;
        private final Set<Integer> stopIds;
        private final float[] row;
        private final DeviceTokens onDevice = new DeviceTokens();
        private final List<Row> running = new ArrayList<>();
        private final Buffers buffers;
        private final BatchDecoder decoder;

        private Run(GenerationConfig config, int capacity) {
            this.config = config;
            this.vocab = model.config().vocabSize();
            this.stopIds = stopIds(model, tokenizer, config);
            this.row = new float[vocab];
            this.buffers = new Buffers(capacity, vocab);
            this.decoder = new BatchDecoder(model, capacity);
        }

        /** Whether another row may join. */
        public boolean hasRoom() {
            return decoder.hasRoom();
        }

        /** Rows decoding. */
        public int running() {
            return running.size();
        }

        /**
         * Prefills {@code job}'s prompt alone, draws its first token and lets it join the next step; returns its result
         * when that first token already ends it (a stop token, a budget of one), else null.
         *
         * @throws IllegalStateException if there is no room
         */
        public Finished add(Job job) {
            if (!hasRoom()) {
                throw new IllegalStateException("the run is full (" + decoder.capacity() + " rows)");
            }
            if (job.prefix() != null && job.prefix().model() != model) {
                throw new IllegalArgumentException("the prompt prefix was processed on another model");
            }
            Row r = start(job, config, vocab, row, onDevice, stopIds);
            if (r.reason != null) {
                return new Finished(job.index(), r.result(stopIds, config.stopStrings()));
            }
            r.slot = decoder.join(r.state); // the decoder owns and closes the prefilled state
            r.state = null;
            r.decodeStart = System.nanoTime();
            r.slot.next(r.tokens[r.count - 1]);
            running.add(r);
            return null;
        }

        /**
         * One decode step of every running row; returns the rows it ended (they leave, freeing their slots).
         *
         * @throws IllegalStateException if no row is running
         */
        public List<Finished> step() {
            if (running.isEmpty()) {
                throw new IllegalStateException("no rows to step");
            }
            Sampler[] samplers = buffers.samplers[decoder.size()];
            int[] next = buffers.next;
            Tensor out = decoder.stepOnBackend();
            for (Row r : running) {
                samplers[r.slot.row()] = r.sampler;
            }
            // greedy rows: one id each crosses from the backend, sampling ones their top k (an argmax id that NaN logits
            // give falls through to the download, whose sampling names the bad value); JSON rows are masked on the host
            boolean json = config.json();
            if (!onDevice.pick(model.griffin().kernels(), out, samplers, model.config().padId(),
                    !json && DeviceArgmax.applies(samplers), !json && DeviceTopK.applies(samplers), next)) {
                float[] logits = buffers.logits;
                model.backend().download(out, logits);
                for (Row r : running) {
                    int at = r.slot.row() * vocab;
                    if (r.json != null) {
                        r.json.mask(logits, at, vocab);
                    }
                    next[r.slot.row()] = r.sampler.sample(logits, at);
                }
            }
            List<Finished> ended = new ArrayList<>();
            for (int i = 0; i < running.size(); ) {
                Row r = running.get(i);
                int token = next[r.slot.row()];
                if (r.accept(token, stopIds)) {
                    decoder.leave(r.slot);
                    running.remove(i);
                    ended.add(new Finished(r.job.index(), r.result(stopIds, config.stopStrings())));
                } else {
                    r.slot.next(token);
                    i++;
                }
            }
            return ended;
        }

        @Override
        public void close() {
            running.clear();
            decoder.close();
        }
    }

    /** A step's host buffers, allocated once per run for {@code capacity} rows (a 2B row of logits is 1 MB). */
    private static final class Buffers {
        final Sampler[][] samplers;
        final int[] next;
        final float[] logits;

        Buffers(int capacity, int vocab) {
            this.samplers = new Sampler[capacity + 1][];
            for (int n = 0; n <= capacity; n++) {
                samplers[n] = new Sampler[n]; // DeviceTopK reads one sampler per row of the step, so one array per size
            }
            this.next = new int[capacity];
            this.logits = new float[capacity * vocab];
        }
    }

    /** Prefills a prompt alone (after its prefix's state, if any) and draws its first token. */
    private Row start(Job job, GenerationConfig config, int vocab, float[] row, DeviceTokens onDevice, Set<Integer> stopIds) {
        Row r = new Row(job, config, vocab);
        long t0 = System.nanoTime();
        ModelState one = model.newState(1);
        try {
            if (job.prefix() != null) {
                job.prefix().copyInto(one, 0);
            }
            Tensor logits = model.griffin().forward(one, job.ids(), job.ids().length, Outputs.LAST);
            int first;
            int[] picked = new int[1];
            Sampler[] alone = {r.sampler};
            boolean json = r.json != null;
            if (onDevice.pick(model.griffin().kernels(), logits, alone, model.config().padId(),
                    !json && r.sampler.argmaxOnly(), !json && r.sampler.deviceTopK() > 0, picked)) {
                first = picked[0];
            } else {
                model.backend().download(logits, row);
                if (json) {
                    r.json.mask(row, 0, vocab);
                }
                first = r.sampler.sample(row, 0);
            }
            r.prefillNanos = System.nanoTime() - t0;
            r.accept(first, stopIds);
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

    /** A row's sampler: greedy, or the config's sampling with the row's own seed; {@code seen} feeds its penalties. */
    private static Sampler sampler(GenerationConfig config, long seed, BitSet seen, int vocab) {
        SamplingParams s = config.sampling();
        return new Sampler(s.isGreedy() ? SamplingParams.greedy()
                : new SamplingParams(s.temperature(), s.topK(), s.topP(), s.minP(), s.repetitionPenalty(), seed), seen, vocab);
    }

    /** The ids that end a row: the config's, and EOS and {@code <end_of_turn>} unless it says otherwise. */
    private static Set<Integer> stopIds(Model model, GemmaTokenizer tokenizer, GenerationConfig config) {
        Set<Integer> stopIds = new HashSet<>(config.stopIds());
        if (config.stopOnEos()) {
            stopIds.add(model.config().eosId());
            if (tokenizer != null) {
                tokenizer.idOf("<end_of_turn>").ifPresent(stopIds::add);
            }
        }
        return stopIds;
    }

    /** Streams {@code token}'s text through a row's stop-string watch; true once a stop string has appeared. */
    private static boolean stopsAt(StreamingDecoder decoder, StopStrings watcher, int token) {
        watcher.push(decoder.feed(token));
        return watcher.stopped();
    }

    /**
     * A row's text: its tokens decoded, without a final stop token, cut at a stop string (which, watched as the text
     * streamed, was the row's last token: {@link Row#accept}).
     */
    private static String textOf(GemmaTokenizer tokenizer, int[] ids, Set<Integer> stopIds, List<String> stopStrings) {
        int n = ids.length;
        if (n > 0 && stopIds.contains(ids[n - 1])) {
            n--;
        }
        StopStrings stops = new StopStrings(stopStrings);
        String text = stops.push(tokenizer.decode(Arrays.copyOf(ids, n)));
        return stops.stopped() ? text : text + stops.flush();
    }
}
