package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * JSON mode ({@link GenerationConfig#withJson}) in a {@link Session} (rg generate, rg chat) and in a
 * {@link BatchGenerator} (the Spark job): every text is a prefix of a JSON object, a whole one when generation ended
 * with {@link StopReason#JSON_COMPLETE}, and a sequence's constrained tokens do not depend on the others of its batch.
 */
class JsonGenerationTest {
    private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Test
    void sessionsAndBatchesGenerateJsonObjects() throws IOException {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            GenerationConfig sampled = new GenerationConfig(30, new SamplingParams(1.0f, 0, 1f, 0, 1, 0), List.of(), Set.of(), true)
                    .withJson(true);
            List<int[]> prompts = List.of(TestPrompts.withBos(m, tok, "A letter as JSON:"), TestPrompts.withBos(m, tok, "Emma"), TestPrompts.withBos(m, tok, "{"));
            long[] seeds = {5, 6, 7};
            BatchGenerator gen = new BatchGenerator(m, tok);
            List<GenerationResult> together = gen.generate(prompts, sampled, seeds);
            for (int b = 0; b < prompts.size(); b++) {
                GenerationResult r = together.get(b);
                assertJson(r);
                assertArrayEquals(gen.generate(List.of(prompts.get(b)), sampled, new long[] {seeds[b]}).get(0).tokens(), r.tokens(),
                        "sequence " + b + " alone");
            }
            for (GenerationConfig cfg : List.of(GenerationConfig.greedy(30).withJson(true), sampled)) {
                try (Session s = new Session(m, tok)) {
                    s.feed(prompts.get(0));
                    GenerationResult r = s.generate(cfg, TextSink.NONE);
                    assertJson(r);
                    assertTrue(r.text().startsWith("{"), r.text());
                }
            }
            try (Session s = new Session(m, tok)) {
                s.feed(prompts.get(0));
                String prose = s.generate(GenerationConfig.greedy(30), TextSink.NONE).text();
                assertTrue(!prose.startsWith("{"), "without JSON mode the model writes prose: " + prose);
            }
        }
    }

    /** A prefix of a JSON object, and a whole one (Jackson, strict) when the object closed. */
    private static void assertJson(GenerationResult r) throws IOException {
        JsonPrefix p = new JsonPrefix();
        assertTrue(p.feed(r.text().getBytes(StandardCharsets.UTF_8)), r.text());
        assertEquals(p.complete(), r.reason() == StopReason.JSON_COMPLETE, r.reason() + ": " + r.text());
        if (r.reason() == StopReason.JSON_COMPLETE) {
            assertTrue(STRICT.readTree(r.text()).isObject(), r.text());
        } else {
            assertEquals(StopReason.MAX_TOKENS, r.reason(), r.text());
        }
    }
}
