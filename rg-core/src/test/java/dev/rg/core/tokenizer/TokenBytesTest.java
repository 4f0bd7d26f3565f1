package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link GemmaTokenizer#tokenBytes}: what one token stands for, as an API shows tokens one by one. Joined, the bytes of
 * a sequence's tokens are its decoded text wherever the text is valid UTF-8 and holds no control or unknown piece.
 */
class TokenBytesTest {
    @Test
    void joinedTokenBytesSpellTheDecodedTextOfEveryGoldenSequence() {
        int checked = 0;
        for (String name : Fixtures.TOKENIZER_FIXTURES) {
            GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(name));
            JsonNode golden = Fixtures.golden(name);
            for (JsonNode c : golden.path("cases")) {
                int[] ids = Fixtures.ints(c.path("ids"));
                if (Arrays.stream(ids).anyMatch(id -> tok.pieceType(id) == PieceType.CONTROL || tok.pieceType(id) == PieceType.UNKNOWN)) {
                    continue;
                }
                String text = tok.decode(ids);
                if (text.indexOf('\uFFFD') >= 0) {
                    continue; // SentencePiece replaces each invalid byte; Java's decoder a whole malformed run
                }
                ByteArrayOutputStream joined = new ByteArrayOutputStream();
                for (int id : ids) {
                    joined.writeBytes(tok.tokenBytes(id));
                }
                assertEquals(text, joined.toString(StandardCharsets.UTF_8), name + " " + Arrays.toString(ids));
                checked++;
            }
        }
        assertTrue(checked > 20, "only " + checked + " sequences checked");
    }

    @Test
    void bytePiecesControlPiecesAndSpaces() {
        GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(Fixtures.TOKENIZER_FIXTURES.getFirst()));
        assertArrayEquals(new byte[] {(byte) 0xE2}, tok.tokenBytes(tok.idOf("<0xE2>").orElseThrow()), "a byte piece: its one byte");
        assertEquals(tok.piece(tok.eosId()), new String(tok.tokenBytes(tok.eosId()), StandardCharsets.UTF_8),
                "a control piece shows its name");
        int spaced = -1;
        for (int id = 0; id < tok.vocabSize() && spaced < 0; id++) {
            if (tok.pieceType(id) == PieceType.NORMAL && tok.piece(id).startsWith("\u2581") && tok.piece(id).length() > 1) {
                spaced = id;
            }
        }
        assertEquals(" " + tok.piece(spaced).substring(1), new String(tok.tokenBytes(spaced), StandardCharsets.UTF_8));
        assertThrows(IllegalArgumentException.class, () -> tok.tokenBytes(tok.vocabSize()));
    }
}
