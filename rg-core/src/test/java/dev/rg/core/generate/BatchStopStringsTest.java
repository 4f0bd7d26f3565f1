package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Stop strings in a batch: a row stops at the token that completes one, as {@link Session} stops, so its tokens, text
 * and reason are those of the prompt generated alone (before, a row decoded on to its budget and was only cut
 * afterwards: the same text, more tokens, wasted steps).
 */
class BatchStopStringsTest {
    @Test
    void aRowStopsWhereTheSessionStops() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            GenerationConfig cfg = new GenerationConfig(40, SamplingParams.greedy(), List.of(".", " her"), Set.of(), true);
            List<String> texts = List.of("It is a truth", "Emma", "Mr. Darcy said", "She");
            List<int[]> prompts = texts.stream().map(t -> TestPrompts.withBos(m, tok, t)).toList();
            List<GenerationResult> batch = new BatchGenerator(m, tok).generate(prompts, cfg);
            int stopped = 0;
            for (int b = 0; b < texts.size(); b++) {
                GenerationResult alone;
                try (Session s = new Session(m, tok)) {
                    alone = s.generate(texts.get(b), cfg, piece -> true);
                }
                assertEquals(alone.text(), batch.get(b).text(), "row " + b);
                assertArrayEquals(alone.tokens(), batch.get(b).tokens(), "row " + b + " stops at the same token");
                assertEquals(alone.reason(), batch.get(b).reason(), "row " + b);
                stopped += alone.reason() == StopReason.STOP_STRING ? 1 : 0;
            }
            assertTrue(stopped >= 2, "most rows meet a stop string within 40 tokens: " + stopped);
        }
    }
}
