package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Prompts that continue a {@link PromptPrefix} give what the whole prompts (prefix tokens, then their own) give:
 * bit for bit on the reference backend, greedy and sampled with a repetition penalty (whose context includes the
 * prefix), with the prefix counted in the prompt tokens.
 */
class PromptPrefixTest {
    @Test
    void continuingAPrefixEqualsTheWholePrompts() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            int[] prefixIds = TestPrompts.withBos(m, tok, "Chapter 1\n\nIt is a truth universally acknowledged, that a single man"
                    + " in possession of a good fortune, must be in want of a wife.\n\n");
            List<int[]> own = List.of(tok.encode("Mrs. Bennet said"), tok.encode("Emma"), tok.encode("The next morning, Elizabeth"));
            List<int[]> whole = new ArrayList<>();
            for (int[] o : own) {
                int[] w = new int[prefixIds.length + o.length];
                System.arraycopy(prefixIds, 0, w, 0, prefixIds.length);
                System.arraycopy(o, 0, w, prefixIds.length, o.length);
                whole.add(w);
            }
            long[] seeds = {3, 4, 5};
            GenerationConfig sampled = new GenerationConfig(16, new SamplingParams(0.9f, 40, 0.95f, 0, 1.3f, 0), List.of(), Set.of(), true);
            BatchGenerator gen = new BatchGenerator(m, tok);
            try (PromptPrefix prefix = PromptPrefix.of(m, prefixIds)) {
                for (GenerationConfig config : List.of(GenerationConfig.greedy(16), sampled)) {
                    List<GenerationResult> continued = gen.generate(own, config, seeds, prefix);
                    List<GenerationResult> expected = gen.generate(whole, config, seeds);
                    for (int b = 0; b < own.size(); b++) {
                        assertArrayEquals(expected.get(b).tokens(), continued.get(b).tokens(), "row " + b);
                        assertEquals(expected.get(b).text(), continued.get(b).text());
                        assertEquals(whole.get(b).length, continued.get(b).promptTokens());
                    }
                }
                try (Model other = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
                    assertThrows(IllegalArgumentException.class,
                            () -> new BatchGenerator(other, tok).generate(own, GenerationConfig.greedy(2), seeds, prefix));
                }
            }
            assertThrows(IllegalArgumentException.class, () -> PromptPrefix.of(m, new int[0]));
            assertThrows(IllegalArgumentException.class, () -> PromptPrefix.of(m, new int[] {2, 99999}));
        }
    }
}
