package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code tokenizer.json} path, which reproduces Hugging Face {@code tokenizers}.
 *
 * <ul>
 *   <li>{@code tokenizer.sp-exact.json} (HF's format, fixed to be SentencePiece-exact): every golden case must
 *       encode to the SentencePiece ids, as the fixture's {@code hf_check.sp-exact.json} reports for HF itself;</li>
 *   <li>{@code tokenizer.json} (as transformers converts Gemma): every golden case must encode to the
 *       SentencePiece ids except the cases listed in {@code hf_check.gemma-format.json}, which must encode to
 *       the ids HF produced there; the number of differences must equal that file's summary;</li>
 *   <li>both: decoding (always SentencePiece rules, with inferred piece types) must reproduce every golden
 *       {@code decoded} text and every {@code decode_cases} entry, and the chat cases must match.</li>
 * </ul>
 */
class TokenizerJsonTest {

    @TestFactory
    Stream<DynamicNode> spExactJsonMatchesSentencePiece() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> {
            GemmaTokenizer tok = GemmaTokenizer.fromTokenizerJson(
                    Fixtures.tokenizerDir(name).resolve("tokenizer.sp-exact.json"));
            JsonNode check = Fixtures.json(Fixtures.tokenizerDir(name).resolve("hf_check.sp-exact.json"));
            assertEquals(0, check.path("summary").path("encode_different").asInt());
            return DynamicContainer.dynamicContainer(name + " sp-exact", casesAgainst(tok, name, Map.of()));
        });
    }

    @TestFactory
    Stream<DynamicNode> gemmaFormatJsonMatchesHf() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> {
            GemmaTokenizer tok = GemmaTokenizer.load(copyOfJsonOnly(name, "tokenizer.json"));
            JsonNode check = Fixtures.json(Fixtures.tokenizerDir(name).resolve("hf_check.gemma-format.json"));
            Map<String, int[]> hfIds = new HashMap<>();
            for (JsonNode m : check.path("mismatches")) {
                assertNull(hfIds.put(m.path("text").asText(), Fixtures.ints(m.path("hf"))), "duplicate mismatch text");
            }
            assertEquals(check.path("summary").path("encode_different").asInt(), hfIds.size());
            return DynamicContainer.dynamicContainer(name + " gemma-format (" + hfIds.size() + " known HF differences)",
                    casesAgainst(tok, name, hfIds));
        });
    }

    private static List<DynamicNode> casesAgainst(GemmaTokenizer tok, String name, Map<String, int[]> hfIds) {
        JsonNode golden = Fixtures.golden(name);
        List<DynamicNode> tests = new ArrayList<>();
        List<DynamicTest> encode = new ArrayList<>();
        int[] differing = {0};
        int index = 0;
        for (JsonNode c : golden.path("cases")) {
            String text = c.path("text").asText();
            int[] expected = hfIds.getOrDefault(text, Fixtures.ints(c.path("ids")));
            if (hfIds.containsKey(text)) {
                differing[0]++;
            }
            encode.add(DynamicTest.dynamicTest("case " + index++ + ": " + Fixtures.label(text), () -> {
                assertArrayEquals(expected, tok.encode(text), "ids");
                assertEquals(c.path("decoded").asText(), tok.decode(Fixtures.ints(c.path("ids"))), "decoded");
            }));
        }
        assertEquals(hfIds.size(), differing[0], "every listed HF difference is a golden case");
        tests.add(DynamicContainer.dynamicContainer("cases (" + encode.size() + ")", encode));
        List<DynamicTest> decode = new ArrayList<>();
        for (JsonNode c : golden.path("decode_cases")) {
            int[] ids = Fixtures.ints(c.path("ids"));
            decode.add(DynamicTest.dynamicTest(java.util.Arrays.toString(ids),
                    () -> assertEquals(c.path("text").asText(), tok.decode(ids))));
        }
        tests.add(DynamicContainer.dynamicContainer("decode_cases (" + decode.size() + ")", decode));
        ChatTemplate chat = new ChatTemplate(tok);
        List<DynamicTest> chats = new ArrayList<>();
        int i = 0;
        for (JsonNode c : golden.path("chat_cases")) {
            chats.add(DynamicTest.dynamicTest("chat " + i++, () -> ChatTemplateTest.checkChatCase(chat, c)));
        }
        tests.add(DynamicContainer.dynamicContainer("chat_cases (" + chats.size() + ")", chats));
        JsonNode specials = golden.path("special_ids");
        tests.add(DynamicTest.dynamicTest("special ids", () -> {
            assertEquals(specials.path("bos").asInt(), tok.bosId());
            assertEquals(specials.path("eos").asInt(), tok.eosId());
            assertEquals(specials.path("pad").asInt(), tok.padId());
            assertEquals(specials.path("unk").asInt(), tok.unkId());
            assertEquals(golden.path("vocab_size").asInt(), tok.vocabSize());
        }));
        return tests;
    }

    @TempDir
    static Path temp;

    /** A directory holding only the given JSON file (as tokenizer.json) and tokenizer_config.json. */
    private static Path copyOfJsonOnly(String fixture, String jsonName) {
        try {
            Path dir = Files.createDirectories(temp.resolve(fixture + "-" + jsonName));
            Path src = Fixtures.tokenizerDir(fixture);
            Files.copy(src.resolve(jsonName), dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(src.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"),
                    StandardCopyOption.REPLACE_EXISTING);
            return dir;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void loadPrefersTokenizerModel() {
        GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir("gemma-layout-4k"));
        assertTrue(tok.source().endsWith("tokenizer.model"), tok.source().toString());
        GemmaTokenizer json = GemmaTokenizer.load(copyOfJsonOnly("tiny-1k", "tokenizer.json"));
        assertTrue(json.source().endsWith("tokenizer.json"), json.source().toString());
    }

    @Test
    void knownHfDifferencesAreReproduced() {
        GemmaTokenizer hf = GemmaTokenizer.fromTokenizerJson(
                Fixtures.tokenizerDir("gemma-layout-4k").resolve("tokenizer.json"));
        GemmaTokenizer sp = GemmaTokenizer.load(Fixtures.tokenizerDir("gemma-layout-4k"));
        // 1. control-token text becomes the control id in HF
        assertArrayEquals(new int[] {2}, hf.encode("<bos>"));
        assertEquals(4, sp.encode("<bos>").length);
        // 2. 50 spaces: HF builds the run by merges (as llama.cpp saw on the real file), SentencePiece matches it
        assertArrayEquals(new int[] {153, 153, 155}, hf.encode(" ".repeat(50)));
        assertArrayEquals(new int[] {168, 156}, sp.encode(" ".repeat(50)));
        // decoding is SentencePiece's for both: the control id vanishes
        assertEquals("", hf.decode(new int[] {2}));
    }

    @Test
    void malformedJsonIsRejected(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("tokenizer.json");
        Files.writeString(bad, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> GemmaTokenizer.load(dir));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("BPE"), e.getMessage());
        Files.writeString(bad, "{\"model\": ");
        e = assertThrows(TokenizerException.class, () -> GemmaTokenizer.load(dir));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }
}
