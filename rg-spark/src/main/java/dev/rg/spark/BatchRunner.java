package dev.rg.spark;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.BatchGenerator;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.generate.PromptPrefix;
import java.util.ArrayList;
import java.util.List;

/**
 * Generates for one batch of rows: checks each prompt, decodes the good ones together through rg-core's
 * {@link BatchGenerator} (each with its own seed), and gives every row an {@link Outcome} in input order.
 */
final class BatchRunner {
    private final RecurrentGemma rg;
    private final GenerateSpec spec;
    private final GenerationConfig config;

    BatchRunner(RecurrentGemma rg, GenerateSpec spec) {
        this.rg = rg;
        this.spec = spec;
        this.config = spec.generationConfig();
    }

    /**
     * @param prompts   the prompt values (String or byte[])
     * @param validUtf8 per prompt, whether its bytes in Spark were UTF-8 (see {@link PromptCheck#check})
     * @param seeds     one sampling seed per prompt
     */
    List<Outcome> run(List<Object> prompts, boolean[] validUtf8, long[] seeds) {
        if (spec.promptPrefix() == null) {
            return run(prompts, validUtf8, seeds, null);
        }
        PromptPrefix kept = ModelCache.prefix(rg, spec.promptPrefix());
        if (kept != null) {
            return run(prompts, validUtf8, seeds, kept);
        }
        // this executor keeps enough other prefixes already: one for this batch
        try (PromptPrefix own = ModelCache.build(rg, spec.promptPrefix())) {
            return run(prompts, validUtf8, seeds, own);
        }
    }

    private List<Outcome> run(List<Object> prompts, boolean[] validUtf8, long[] seeds, PromptPrefix prefix) {
        Outcome[] out = new Outcome[prompts.size()];
        List<int[]> ids = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        int prefixTokens = prefix == null ? 0 : prefix.length();
        for (int i = 0; i < out.length; i++) {
            PromptCheck.Checked c = PromptCheck.check(rg, prompts.get(i), validUtf8[i], spec.maxPromptTokens(), prefixTokens);
            if (c.error() != null) {
                out[i] = c.error();
            } else {
                ids.add(c.ids());
                slots.add(i);
            }
        }
        if (!ids.isEmpty()) {
            long[] batchSeeds = new long[ids.size()];
            for (int j = 0; j < batchSeeds.length; j++) {
                batchSeeds[j] = seeds[slots.get(j)];
            }
            List<GenerationResult> results = batch(ids, batchSeeds, prefix);
            for (int j = 0; j < ids.size(); j++) {
                // when the batch rejected a prompt, decode the rows alone so only the bad one carries the error
                out[slots.get(j)] = results != null ? Outcome.of(results.get(j)) : one(ids.get(j), batchSeeds[j], prefix);
            }
        }
        return List.of(out);
    }

    /** The batch's results, or null when rg-core rejected one of its prompts (an input problem, not a fault). */
    private List<GenerationResult> batch(List<int[]> ids, long[] seeds, PromptPrefix prefix) {
        try {
            return new BatchGenerator(rg.model(), rg.tokenizer()).generate(ids, config, seeds, prefix);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private Outcome one(int[] ids, long seed, PromptPrefix prefix) {
        try {
            return Outcome.of(new BatchGenerator(rg.model(), rg.tokenizer()).generate(List.of(ids), config, new long[] {seed}, prefix).get(0));
        } catch (IllegalArgumentException e) {
            return Outcome.error(ids.length + (prefix == null ? 0 : prefix.length()), e.getMessage());
        }
    }
}
