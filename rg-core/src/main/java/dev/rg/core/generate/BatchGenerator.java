package dev.rg.core.generate;

import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.List;

/**
 * Generates continuations of a set of prompts together: each prompt is prefilled on its own (they may differ
 * in length), then all sequences advance in one batched decode step per token, so the weights are read once
 * per step for the whole batch; a finished row leaves the batch. It is a {@link ContinuousGenerator} run over a fixed
 * set, so each row stops where {@link Session} would: at a stop token, at the token that completes a stop string
 * (watched as its text streams), at the JSON object's end, or at the token budget.
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
        if (batch == 0) {
            throw new IllegalArgumentException("no prompts");
        }
        if (seeds.length != batch) {
            throw new IllegalArgumentException(batch + " prompts but " + seeds.length + " seeds");
        }
        // the whole set as one run of its own size: every row joins before the first step, and a row's result does
        // not depend on the others (see ContinuousGenerator), so this is the batch decode it always was
        GenerationResult[] results = new GenerationResult[batch];
        try (ContinuousGenerator.Run run = new ContinuousGenerator(model, tokenizer).open(config, batch)) {
            for (int b = 0; b < batch; b++) {
                ContinuousGenerator.Finished f = run.add(new ContinuousGenerator.Job(b, prompts.get(b), seeds[b], prefix));
                if (f != null) {
                    results[b] = f.result();
                }
            }
            while (run.running() > 0) {
                for (ContinuousGenerator.Finished f : run.step()) {
                    results[(int) f.index()] = f.result();
                }
            }
        }
        return List.of(results);
    }
}
