package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every {@code cases} and {@code decode_cases} entry of both SentencePiece golden fixtures, through
 * {@code tokenizer.model}: ids, pieces, decoded text and the round-trip flag must all match the real library.
 */
class GoldenCasesTest {

    @TestFactory
    Stream<DynamicNode> encodeCases() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> {
            GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(name));
            JsonNode golden = Fixtures.golden(name);
            List<DynamicTest> tests = new ArrayList<>();
            int i = 0;
            for (JsonNode c : golden.path("cases")) {
                int index = i++;
                tests.add(DynamicTest.dynamicTest("case " + index + ": " + Fixtures.label(c.path("text").asText()),
                        () -> checkCase(tok, c)));
            }
            assertEquals(golden.path("num_cases").asInt(), tests.size(), name + ": case count");
            return DynamicContainer.dynamicContainer(name + " cases (" + tests.size() + ")", tests);
        });
    }

    @TestFactory
    Stream<DynamicNode> decodeCases() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> {
            GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(name));
            List<DynamicTest> tests = new ArrayList<>();
            for (JsonNode c : Fixtures.golden(name).path("decode_cases")) {
                int[] ids = Fixtures.ints(c.path("ids"));
                String expected = c.path("text").asText();
                tests.add(DynamicTest.dynamicTest("decode " + java.util.Arrays.toString(ids),
                        () -> assertEquals(expected, tok.decode(ids))));
            }
            return DynamicContainer.dynamicContainer(name + " decode_cases (" + tests.size() + ")", tests);
        });
    }

    @TestFactory
    Stream<DynamicNode> specialIdsAndSize() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(name));
            JsonNode golden = Fixtures.golden(name);
            assertEquals(golden.path("vocab_size").asInt(), tok.vocabSize());
            JsonNode special = golden.path("special_ids");
            assertEquals(special.path("pad").asInt(), tok.padId());
            assertEquals(special.path("eos").asInt(), tok.eosId());
            assertEquals(special.path("bos").asInt(), tok.bosId());
            assertEquals(special.path("unk").asInt(), tok.unkId());
        }));
    }

    static void checkCase(GemmaTokenizer tok, JsonNode c) {
        String text = c.path("text").asText();
        // The JSON text must be the exact input bytes the golden was made from.
        assertEquals(c.path("utf8_hex").asText(), HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8)),
                "utf8_hex");
        int[] expectedIds = Fixtures.ints(c.path("ids"));
        int[] ids = tok.encode(text);
        assertArrayEquals(expectedIds, ids, "ids");
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(tok.piece(id));
        }
        assertEquals(Fixtures.strings(c.path("pieces")), pieces, "pieces");
        String decoded = tok.decode(expectedIds);
        assertEquals(c.path("decoded").asText(), decoded, "decoded");
        assertEquals(c.path("roundtrip").asBoolean(), decoded.equals(text), "roundtrip");
    }
}
