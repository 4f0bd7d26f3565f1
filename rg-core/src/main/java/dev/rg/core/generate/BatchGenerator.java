package dev.rg.core.generate;

import dev.rg.api.backend.Backend;
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
 * Generates continuations of several prompts together: each prompt is prefilled on its own (they may differ
 * in length), then all sequences advance in one batched decode step per token, so the weights are read once
 * per step for the whole batch. A finished sequence keeps its slot (fed its last token) until all are done. A row
 * stops where {@link Session} would: at a stop token, at the token that completes a stop string (watched as its text
 * streams), at the JSON object's end, or at the token budget.
 */
public final class BatchGenerator {
    private final Model model;
    private final GemmaTokenizer tokenizer;

    /** @param tokenizer may be null (then results have no text) */
    public BatchGenerator(Model model, GemmaTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Generates for every prompt (token ids, BOS included); results in prompt order. Sequence b samples with seed + b. */
    public List<GenerationResult> generate(List<int[]> prompts, GenerationConfig config) {
        long[] seeds = new long[prompts.size()];
        for (int b = 0; b < seeds.length; b++) {
            seeds[b] = config.sampling().seed() + b;
        }
        return generate(prompts, config, seeds);
    }

    /**
     * Generates with one sampling seed per sequence, so a sequence's tokens depend on its own seed only, not on
     * its slot in the batch (batch jobs derive the seed from a row key: retries and re-partitioning then give
     * identical rows).
     */
    public List<GenerationResult> generate(List<int[]> prompts, GenerationConfig config, long[] seeds) {
        return generate(prompts, config, seeds, null);
    }

    /**
     * Generates for prompts that all continue {@code prefix} (null: none): each sequence starts from a copy of the
     * prefix's state and processes only its own tokens ({@code prompts} then hold the tokens after the prefix, no BOS).
     * Results equal those of the whole prompts (prefix + own tokens) within the backend's kernel tolerance (bit for bit
     * on the reference backend); their prompt token counts include the prefix.
     */
    public List<GenerationResult> generate(List<int[]> prompts, GenerationConfig config, long[] seeds, PromptPrefix prefix) {
        if (prefix != null && prefix.model() != model) {
            throw new IllegalArgumentException("the prompt prefix was processed on another model");
        }
        int batch = prompts.size();
        int[] prefixIds = prefix == null ? new int[0] : prefix.ids();
        if (batch == 0) {
            throw new IllegalArgumentException("no prompts");
        }
        if (seeds.length != batch) {
            throw new IllegalArgumentException(batch + " prompts but " + seeds.length + " seeds");
        }
        int vocab = model.config().vocabSize();
        Backend backend = model.backend();
        Set<Integer> stopIds = stopIds(model, tokenizer, config);
        int[] first = new int[batch];
        long[] prefillNanos = new long[batch];
        Sampler[] samplers = new Sampler[batch];
        Sampler[] active = new Sampler[batch];
        DeviceTopK topK = new DeviceTopK();
        BitSet[] seen = new BitSet[batch];
        float[] row = new float[vocab];
        JsonConstraint[] json = config.json() ? new JsonConstraint[batch] : null;
        // stop strings are watched as the text streams, so a row stops at one (as Session does) instead of decoding on to
        // its token budget and being cut afterwards
        boolean watchStops = tokenizer != null && !config.stopStrings().isEmpty();
        StreamingDecoder[] decoders = watchStops ? new StreamingDecoder[batch] : null;
        StopStrings[] watchers = watchStops ? new StopStrings[batch] : null;
        for (int b = 0; watchStops && b < batch; b++) {
            decoders[b] = tokenizer.streamingDecoder();
            watchers[b] = new StopStrings(config.stopStrings());
        }
        for (int b = 0; json != null && b < batch; b++) {
            json[b] = JsonConstraint.of(tokenizer);
        }
        try (ModelState state = model.newState(batch)) {
            for (int b = 0; b < batch; b++) {
                int[] p = prompts.get(b);
                if (p.length == 0) {
                    throw new IllegalArgumentException("prompt " + b + " is empty");
                }
                seen[b] = new BitSet(vocab);
                for (int id : prefixIds) {
                    seen[b].set(id);
                }
                for (int id : p) {
                    if (id >= 0 && id < vocab) {
                        seen[b].set(id);
                    }
                }
                samplers[b] = sampler(config, seeds[b], seen[b], vocab);
                long t0 = System.nanoTime();
                try (ModelState one = model.newState(1)) {
                    if (prefix != null) {
                        prefix.copyInto(one, 0);
                    }
                    Tensor logits = model.griffin().forward(one, p, p.length, Outputs.LAST);
                    if (json != null) {
                        backend.download(logits, row);
                        json[b].mask(row, 0, vocab);
                        first[b] = samplers[b].sample(row, 0);
                    } else if (samplers[b].deviceTopK() > 0) {
                        int[] picked = new int[1];
                        topK.sample(model.griffin().kernels(), logits, new Sampler[] {samplers[b]}, picked);
                        first[b] = picked[0];
                    } else {
                        backend.download(logits, row);
                        first[b] = samplers[b].sample(row, 0);
                    }
                    state.copySequence(one, 0, b);
                }
                prefillNanos[b] = System.nanoTime() - t0;
            }
            int[][] tokens = new int[batch][config.maxNewTokens()];
            int[] counts = new int[batch];
            StopReason[] reasons = new StopReason[batch];
            int[] next = first.clone();
            float[] logits = new float[batch * vocab];
            long t0 = System.nanoTime();
            for (int step = 0; ; step++) {
                boolean allDone = true;
                for (int b = 0; b < batch; b++) {
                    if (reasons[b] != null) {
                        continue;
                    }
                    tokens[b][counts[b]++] = next[b];
                    seen[b].set(next[b]);
                    if (json != null) {
                        json[b].accept(next[b]);
                    }
                    if (stopIds.contains(next[b])) {
                        reasons[b] = StopReason.STOP_TOKEN;
                    } else if (watchStops && stopsAt(decoders[b], watchers[b], next[b])) {
                        reasons[b] = StopReason.STOP_STRING;
                    } else if (json != null && json[b].complete()) {
                        reasons[b] = StopReason.JSON_COMPLETE;
                    } else if (counts[b] == config.maxNewTokens()) {
                        reasons[b] = StopReason.MAX_TOKENS;
                    } else {
                        allDone = false;
                    }
                }
                if (allDone) {
                    break;
                }
                Tensor out = model.griffin().forward(state, next, 1, Outputs.LAST);
                for (int b = 0; b < batch; b++) {
                    active[b] = reasons[b] == null ? samplers[b] : null;
                }
                if (json == null && DeviceTopK.applies(active)) {
                    // only k ids and values per row cross from the backend
                    topK.sample(model.griffin().kernels(), out, active, next);
                } else {
                    backend.download(out, logits);
                    for (int b = 0; b < batch; b++) {
                        if (active[b] != null) {
                            if (json != null) {
                                json[b].mask(logits, b * vocab, vocab);
                            }
                            next[b] = active[b].sample(logits, b * vocab);
                        }
                    }
                }
            }
            long decode = System.nanoTime() - t0;
            List<GenerationResult> results = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                int[] ids = Arrays.copyOf(tokens[b], counts[b]);
                String text = tokenizer == null ? "" : textOf(tokenizer, ids, stopIds, config.stopStrings(), reasons, b);
                int promptTokens = prompts.get(b).length + (prefix == null ? 0 : prefix.length());
                results.add(new GenerationResult(promptTokens, ids, text, reasons[b], prefillNanos[b], decode));
            }
            return results;
        }
    }

    /** A row's sampler: greedy, or the config's sampling with the row's own seed; {@code seen} feeds its penalties. */
    static Sampler sampler(GenerationConfig config, long seed, BitSet seen, int vocab) {
        SamplingParams s = config.sampling();
        return new Sampler(s.isGreedy() ? SamplingParams.greedy()
                : new SamplingParams(s.temperature(), s.topK(), s.topP(), s.minP(), s.repetitionPenalty(), seed), seen, vocab);
    }

    /** The ids that end a row: the config's, and EOS and {@code <end_of_turn>} unless it says otherwise. */
    static Set<Integer> stopIds(Model model, GemmaTokenizer tokenizer, GenerationConfig config) {
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
    static boolean stopsAt(StreamingDecoder decoder, StopStrings watcher, int token) {
        watcher.push(decoder.feed(token));
        return watcher.stopped();
    }

    /** A row's text: its tokens decoded, without a final stop token, cut at the first stop string (then its reason). */
    static String textOf(GemmaTokenizer tokenizer, int[] ids, Set<Integer> stopIds, List<String> stopStrings, StopReason[] reasons,
            int b) {
        int n = ids.length;
        if (n > 0 && stopIds.contains(ids[n - 1])) {
            n--;
        }
        StopStrings stops = new StopStrings(stopStrings);
        String text = stops.push(tokenizer.decode(Arrays.copyOf(ids, n)));
        if (stops.stopped()) {
            reasons[b] = StopReason.STOP_STRING;
            return text;
        }
        return text + stops.flush();
    }
}
