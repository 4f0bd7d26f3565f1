package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/** Encoder behaviour not covered by the goldens, and the protobuf reader against {@code vocab.json}. */
class EncoderBehaviourTest {

    /** The parsed ModelProto must equal the fixture's vocab.json dump, scores bit for bit (including -0.0). */
    @TestFactory
    Stream<DynamicNode> protobufMatchesVocabJson() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            Path dir = Fixtures.tokenizerDir(name);
            ModelProto proto = ModelProtoParser.parse(Files.readAllBytes(dir.resolve("tokenizer.model")), name);
            JsonNode vocab = Fixtures.json(dir.resolve("vocab.json"));
            assertEquals(vocab.size(), proto.pieces().size());
            for (JsonNode v : vocab) {
                ModelProto.Piece p = proto.pieces().get(v.path("id").asInt());
                assertEquals(v.path("piece").asText(), p.piece());
                assertEquals(Float.floatToRawIntBits((float) v.path("score").asDouble()),
                        Float.floatToRawIntBits(p.score()), p.piece());
                assertEquals(v.path("type").asText(), p.type().name(), p.piece());
            }
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(proto.pieces().get(
                    firstNormal(proto)).score()), "first merged piece has score -0.0");
        }));
    }

    private static int firstNormal(ModelProto proto) {
        for (int i = 0; i < proto.pieces().size(); i++) {
            if (proto.pieces().get(i).type() == PieceType.NORMAL) {
                return i;
            }
        }
        throw new AssertionError("no NORMAL piece");
    }

    @Test
    void loneSurrogatesEncodeAsReplacementCharacter() {
        GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir("gemma-layout-4k"));
        assertArrayEquals(tok.encode("a\uFFFDb\uFFFD"), tok.encode("a\uD800b\uDC00"));
        assertArrayEquals(tok.encode("\uFFFD\uFFFD"), tok.encode("\uDC00\uD800"));
        assertArrayEquals(tok.encode("x\uD83D\uDE00"), tok.encode("x\uD83D\uDE00")); // a pair is kept
        assertEquals("a\uFFFDb", tok.decode(tok.encode("a\uD800b")));
    }

    @Test
    void emptyAndWhitespace() {
        GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir("gemma-layout-4k"));
        assertEquals(0, tok.encode("").length);
        assertEquals("", tok.decode(new int[0]));
        assertEquals("  x", tok.decode(tok.encode("  x")));
    }

    /**
     * UNUSED pieces take part in merging and are split back afterwards (Gemma has none; SentencePiece's
     * {@code resegment}). "ab" is UNUSED, "abc" NORMAL: "ab" alone comes out as a, b; "abc" stays whole.
     */
    @Test
    void unusedPiecesAreResegmented(@TempDir Path dir) throws IOException {
        SyntheticModel m = SyntheticModel.gemmaLike(List.of(), List.of("a", "b", "c", "ab", "abc"));
        int ab = m.idOf("ab");
        m.pieces.set(ab, new SyntheticModel.Piece("ab", m.pieces.get(ab).score(), PieceType.UNUSED));
        Files.write(dir.resolve("tokenizer.model"), m.toBytes());
        GemmaTokenizer tok = GemmaTokenizer.load(dir);
        int a = m.idOf("a");
        int b = m.idOf("b");
        assertArrayEquals(new int[] {a, b}, tok.encode("ab"));
        assertArrayEquals(new int[] {m.idOf("abc")}, tok.encode("abc"));
        assertArrayEquals(new int[] {a, b, a, b}, tok.encode("abab"));
        assertEquals("abab", tok.decode(tok.encode("abab")));
        // 'd' has no piece: byte fallback, 217 + 0x64 in this layout is 4 + 0x64
        assertArrayEquals(new int[] {tok.idOf("<0x64>").orElseThrow()}, tok.encode("d"));
    }

    /** Equal scores merge leftmost first; "aaa" with piece "aa" gives aa, a (not a, aa). */
    @Test
    void tiesMergeLeftmostFirst(@TempDir Path dir) throws IOException {
        SyntheticModel m = SyntheticModel.gemmaLike(List.of(), List.of("a", "aa"));
        Files.write(dir.resolve("tokenizer.model"), m.toBytes());
        GemmaTokenizer tok = GemmaTokenizer.load(dir);
        assertArrayEquals(new int[] {m.idOf("aa"), m.idOf("a")}, tok.encode("aaa"));
        assertArrayEquals(new int[] {m.idOf("aa"), m.idOf("aa")}, tok.encode("aaaa"));
    }

    /**
     * About a megabyte of text (held-out Austen plus every golden text of gemma-layout-4k, repeated) must round
     * trip. This also exercises the O(n log n) merge loop on one huge BPE run, since nothing splits the input.
     */
    @Test
    void megabyteRoundTrip() throws IOException {
        GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.austenDir());
        StringBuilder unit = new StringBuilder(Files.readString(Fixtures.austenDir().resolve("heldout.txt")));
        for (JsonNode c : Fixtures.golden("gemma-layout-4k").path("cases")) {
            if (c.path("roundtrip").asBoolean()) {
                unit.append('\n').append(c.path("text").asText());
            }
        }
        StringBuilder big = new StringBuilder();
        while (big.length() < 1_000_000) {
            big.append(unit).append("\n\n");
        }
        String text = big.toString();
        int[] ids = tok.encode(text);
        assertTrue(ids.length > 200_000, "ids: " + ids.length);
        assertEquals(text, tok.decode(ids));
        assertEquals(text, StreamingDecoderTest.streamed(tok, ids));
    }
}
