package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The streaming decoder, fed one id at a time, must reproduce {@code decode()} exactly. */
class StreamingDecoderTest {

    static String streamed(GemmaTokenizer tok, int[] ids) {
        StreamingDecoder d = tok.streamingDecoder();
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.feed(id));
        }
        sb.append(d.flush());
        assertFalse(d.hasPendingBytes());
        return sb.toString();
    }

    @TestFactory
    Stream<DynamicNode> everyGoldenIdSequence() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> {
            GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(name));
            JsonNode golden = Fixtures.golden(name);
            List<int[]> sequences = new ArrayList<>();
            golden.path("cases").forEach(c -> sequences.add(Fixtures.ints(c.path("ids"))));
            golden.path("decode_cases").forEach(c -> sequences.add(Fixtures.ints(c.path("ids"))));
            golden.path("chat_cases").forEach(c -> sequences.add(Fixtures.ints(c.path("ids"))));
            return DynamicTest.dynamicTest(name + " (" + sequences.size() + " sequences)", () -> {
                for (int[] ids : sequences) {
                    assertEquals(tok.decode(ids), streamed(tok, ids), Arrays.toString(ids));
                }
            });
        });
    }

    /** Random mixes of byte pieces (valid, truncated and invalid UTF-8), controls, unk and text pieces. */
    @TestFactory
    Stream<DynamicNode> randomIdSequences() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(name));
            int[] byteIds = new int[256];
            for (int b = 0; b < 256; b++) {
                byteIds[b] = tok.idOf(String.format("<0x%02X>", b)).orElseThrow();
            }
            int[] interesting = {0xC2, 0xC3, 0xDF, 0xE0, 0xE4, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xC0, 0xC1, 0x80, 0x9F,
                0xA0, 0xBF, 0xB8, 0xAD, 0x41, 0x0A, 0xFF, 0x90, 0x8F};
            Random random = new Random(42);
            for (int n = 0; n < 3000; n++) {
                int[] ids = new int[random.nextInt(12)];
                for (int i = 0; i < ids.length; i++) {
                    int kind = random.nextInt(10);
                    ids[i] = kind < 6 ? byteIds[interesting[random.nextInt(interesting.length)]]
                            : kind < 7 ? byteIds[random.nextInt(256)]
                            : kind < 8 ? random.nextInt(4)
                            : random.nextInt(tok.vocabSize());
                }
                assertEquals(tok.decode(ids), streamed(tok, ids), Arrays.toString(ids));
            }
        }));
    }

    @Test
    void holdsBackIncompleteCharactersOnly() {
        GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir("gemma-layout-4k"));
        StreamingDecoder d = tok.streamingDecoder();
        // U+1F600 as byte pieces: nothing until the fourth byte.
        assertEquals("", d.feed(217 + 0xF0));
        assertEquals("", d.feed(217 + 0x9F));
        assertEquals("", d.feed(217 + 0x98));
        assertTrue(d.hasPendingBytes());
        assertEquals("\uD83D\uDE00", d.feed(217 + 0x80));
        // An invalid continuation is reported at once, one U+FFFD per byte as in SentencePiece.
        assertEquals("", d.feed(217 + 0xE4));
        assertEquals("\uFFFDA", d.feed(217 + 0x41));
        // A truncated run is flushed by a non-byte id.
        assertEquals("", d.feed(217 + 0xE4));
        assertEquals("", d.feed(217 + 0xB8));
        assertEquals("\uFFFD\uFFFD", d.feed(2));
        // flush() ends the stream.
        assertEquals("", d.feed(217 + 0xC3));
        assertEquals("\uFFFD", d.flush());
        assertEquals("", d.flush());
    }

    @Test
    void outOfRangeIdIsRejected() {
        GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir("tiny-1k"));
        StreamingDecoder d = tok.streamingDecoder();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.feed(1000));
        assertTrue(e.getMessage().contains("1000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> d.feed(-1));
    }
}
