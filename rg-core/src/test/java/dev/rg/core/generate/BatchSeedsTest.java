package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Per-sequence seeds: a sequence's sampled tokens depend on its own seed, not on its slot in the batch. */
class BatchSeedsTest {
    @Test
    void aSequenceSamplesTheSameAloneAndInAnyBatchSlot() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            BatchGenerator gen = new BatchGenerator(m, tok);
            GenerationConfig cfg = new GenerationConfig(10, new SamplingParams(1.0f, 50, 0.95f, 0, 1, 0), List.of(), Set.of(), false);
            Random random = new Random(11);
            long[] seeds = {random.nextLong(), random.nextLong(), random.nextLong()};
            List<int[]> prompts = List.of(TestPrompts.withBos(m, tok, "It is a truth"), TestPrompts.withBos(m, tok, "Emma"), TestPrompts.withBos(m, tok, "Mr. Darcy said"));
            List<GenerationResult> together = gen.generate(prompts, cfg, seeds);
            List<GenerationResult> reversed = gen.generate(List.of(prompts.get(2), prompts.get(1), prompts.get(0)), cfg,
                    new long[] {seeds[2], seeds[1], seeds[0]});
            for (int b = 0; b < 3; b++) {
                int[] alone = gen.generate(List.of(prompts.get(b)), cfg, new long[] {seeds[b]}).get(0).tokens();
                assertArrayEquals(alone, together.get(b).tokens(), "sequence " + b);
                assertArrayEquals(alone, reversed.get(2 - b).tokens(), "sequence " + b + " in slot " + (2 - b));
            }
            // the seed-less form keeps its meaning: sequence b samples with seed + b
            GenerationConfig seeded = cfg.withSampling(new SamplingParams(1.0f, 50, 0.95f, 0, 1, 40));
            assertArrayEquals(gen.generate(prompts, seeded, new long[] {40, 41, 42}).get(2).tokens(),
                    gen.generate(prompts, seeded).get(2).tokens());
            assertEquals("3 prompts but 2 seeds",
                    assertThrows(IllegalArgumentException.class, () -> gen.generate(prompts, cfg, new long[2])).getMessage());
        }
    }
}
