package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Loss;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The embedded default model reproduces its goldens: greedy continuations (ids and text) and held-out NLL. */
class AustenGoldenTest {
    private static Model model;
    private static GemmaTokenizer tokenizer;
    private static JsonNode golden;

    @BeforeAll
    static void load() throws IOException {
        model = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
        tokenizer = GemmaTokenizer.load(TestFiles.austen());
        golden = new ObjectMapper().readTree(TestFiles.austen().resolve("golden.json").toFile());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] ints(JsonNode n) {
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asInt();
        }
        return out;
    }

    @Test
    void greedyContinuationsMatchIdsAndText() {
        for (JsonNode p : golden.get("prompts")) {
            try (Session s = new Session(model, tokenizer)) {
                StringBuilder streamed = new StringBuilder();
                GenerationConfig cfg = new GenerationConfig(40, SamplingParams.greedy(), List.of(), java.util.Set.of(), false);
                GenerationResult r = s.generate(p.get("prompt").asText(), cfg, t -> {
                    streamed.append(t);
                    return true;
                });
                assertArrayEquals(ints(p.get("prompt_ids")), s.encodeWithBos(p.get("prompt").asText()), "prompt ids");
                assertArrayEquals(ints(p.get("generated_ids")), r.tokens(), "greedy ids for " + p.get("prompt"));
                assertEquals(p.get("generated_text").asText(), r.text());
                assertEquals(r.text(), streamed.toString(), "streamed pieces add up to the text");
            }
        }
    }

    @Test
    void batchedGenerationEqualsOneByOne() {
        List<int[]> prompts = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (JsonNode p : golden.get("prompts")) {
            prompts.add(ints(p.get("prompt_ids")));
            expected.add(Arrays.copyOf(ints(p.get("generated_ids")), 12));
        }
        GenerationConfig cfg = new GenerationConfig(12, SamplingParams.greedy(), List.of(), java.util.Set.of(), false);
        List<GenerationResult> rs = new BatchGenerator(model, tokenizer).generate(prompts, cfg);
        for (int i = 0; i < prompts.size(); i++) {
            assertArrayEquals(expected.get(i), rs.get(i).tokens(), "prompt " + i + " (prompts differ in length)");
        }
    }

    @Test
    void heldOutPerplexity() throws IOException {
        JsonNode h = golden.get("heldout");
        int[] text = tokenizer.encode(Files.readString(TestFiles.austen().resolve("heldout.txt")));
        assertEquals(h.get("text_tokens_total").asInt(), text.length);
        Loss.Result total = new Loss.Result(0, 0);
        for (int c = 0; c < 16; c++) {
            int[] chunk = new int[256];
            chunk[0] = 2;
            System.arraycopy(text, 255 * c, chunk, 1, 255);
            total = total.plus(Loss.of(model, chunk));
        }
        assertEquals(4080, total.count());
        // golden: mean NLL 4.3332, perplexity 76.19 (float32 reference; we accumulate in double)
        assertEquals(4.3332, total.mean(), 5e-4);
        assertEquals(76.19, total.perplexity(), 0.05);
    }
}
