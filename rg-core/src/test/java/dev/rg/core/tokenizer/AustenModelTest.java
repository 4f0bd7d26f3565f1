package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The tokenizer of the real toy model {@code austen-6m} against its generation goldens. */
class AustenModelTest {
    private final GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.austenDir());
    private final JsonNode golden = Fixtures.json(Fixtures.austenDir().resolve("golden.json"));

    @Test
    void promptIdsAreBosPlusEncode() {
        assertEquals(5, golden.path("prompts").size());
        for (JsonNode p : golden.path("prompts")) {
            int[] expected = Fixtures.ints(p.path("prompt_ids"));
            int[] ids = IntStream.concat(IntStream.of(tok.bosId()), IntStream.of(tok.encode(p.path("prompt").asText())))
                    .toArray();
            assertArrayEquals(expected, ids, p.path("prompt").asText());
        }
    }

    @Test
    void generatedIdsDecodeToGoldenText() {
        for (JsonNode p : golden.path("prompts")) {
            int[] generated = Fixtures.ints(p.path("generated_ids"));
            assertEquals(p.path("generated_text").asText(), tok.decode(generated), p.path("prompt").asText());
            int[] all = IntStream.concat(IntStream.of(Fixtures.ints(p.path("prompt_ids"))), IntStream.of(generated))
                    .toArray();
            assertEquals(p.path("full_text").asText(), tok.decode(all));
            StreamingDecoder stream = tok.streamingDecoder();
            StringBuilder sb = new StringBuilder();
            for (int id : all) {
                sb.append(stream.feed(id));
            }
            assertEquals(p.path("full_text").asText(), sb.append(stream.flush()).toString());
        }
    }

    @Test
    void heldoutTextTokenizesAsInTheGoldens() throws IOException {
        JsonNode heldout = golden.path("heldout");
        String text = Files.readString(Fixtures.austenDir().resolve(heldout.path("file").asText()));
        assertEquals(heldout.path("chars").asInt(), text.length());
        int[] ids = tok.encode(text);
        assertEquals(heldout.path("text_tokens_total").asInt(), ids.length);
        int[] evaluated = Fixtures.ints(heldout.path("evaluated_text_ids"));
        assertArrayEquals(evaluated, Arrays.copyOf(ids, evaluated.length));
        assertEquals(text, tok.decode(ids));
    }

    @Test
    void layoutIsGemmas() {
        assertEquals(4096, tok.vocabSize());
        assertEquals(0, tok.padId());
        assertEquals(1, tok.eosId());
        assertEquals(2, tok.bosId());
        assertEquals(3, tok.unkId());
        ChatTemplate chat = new ChatTemplate(tok);
        assertEquals(106, chat.startOfTurnId());
        assertEquals(107, chat.endOfTurnId());
        assertEquals(PieceType.BYTE, tok.pieceType(217));
        assertEquals("<0x00>", tok.piece(217));
        assertEquals(109, tok.idOf("\n\n").orElseThrow());
    }
}
