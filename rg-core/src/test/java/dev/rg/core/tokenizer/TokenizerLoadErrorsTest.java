package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input must fail fast with a {@link TokenizerException} that names the file and what was expected. */
class TokenizerLoadErrorsTest {
    @TempDir
    Path dir;

    private Path write(byte[] bytes) throws IOException {
        return Files.write(dir.resolve("tokenizer.model"), bytes);
    }

    private TokenizerException failsWith(byte[] bytes, String expectedInMessage) throws IOException {
        Path file = write(bytes);
        TokenizerException e = assertThrows(TokenizerException.class, () -> GemmaTokenizer.load(dir));
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expectedInMessage), "'" + expectedInMessage + "' in: " + e.getMessage());
        return e;
    }

    private byte[] model(Consumer<SyntheticModel> change) {
        SyntheticModel m = SyntheticModel.gemmaLike(List.of("<start_of_turn>", "<end_of_turn>"), List.of("a", "b", "ab"));
        change.accept(m);
        return m.toBytes();
    }

    @Test
    void validSyntheticModelLoads() throws IOException {
        write(model(m -> { }));
        GemmaTokenizer tok = GemmaTokenizer.load(dir);
        assertArrayEquals(new int[] {tok.idOf("ab").orElseThrow(), 4}, tok.encode("ab<start_of_turn>"));
        assertEquals(PieceType.NORMAL, tok.pieceType(tok.idOf("ab").orElseThrow())); // type absent on the wire
        assertEquals(0, tok.padId()); // written as pad_id 0 and piece <pad>
    }

    @Test
    void emptyFile() throws IOException {
        failsWith(new byte[0], "empty file");
    }

    @Test
    void truncatedRealModelFailsAtEveryCut() throws IOException {
        byte[] full = Files.readAllBytes(Fixtures.tokenizerDir("tiny-1k").resolve("tokenizer.model"));
        Path file = dir.resolve("cut.model");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int cut = 0; cut < full.length; cut += cut < 64 ? 1 : 97) {
                Files.write(file, Arrays.copyOf(full, cut));
                int at = cut;
                TokenizerException e = assertThrows(TokenizerException.class,
                        () -> GemmaTokenizer.fromSentencePieceModel(file), "cut at " + at);
                assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            }
        });
        for (int tail = 1; tail <= 64; tail++) {
            Files.write(file, Arrays.copyOf(full, full.length - tail));
            assertThrows(TokenizerException.class, () -> GemmaTokenizer.fromSentencePieceModel(file));
        }
    }

    @Test
    void corruptBytesNeverEscapeAsOtherExceptions() throws IOException {
        byte[] full = Files.readAllBytes(Fixtures.tokenizerDir("tiny-1k").resolve("tokenizer.model"));
        Path file = dir.resolve("corrupt.model");
        Random random = new Random(7);
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int n = 0; n < 400; n++) {
                byte[] bytes = full.clone();
                for (int k = 0; k <= n % 4; k++) {
                    bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                }
                Files.write(file, bytes);
                try {
                    GemmaTokenizer tok = GemmaTokenizer.fromSentencePieceModel(file);
                    tok.decode(tok.encode("Hello, wörld! 😀"));
                } catch (TokenizerException expected) {
                    // a clear rejection is fine
                } catch (RuntimeException | Error e) {
                    fail("corruption #" + n + " escaped as " + e, e);
                }
            }
        });
    }

    @Test
    void malformedVarint() throws IOException {
        byte[] bytes = new byte[12];
        bytes[0] = 0x20; // field 4, varint: an unknown field, skipped by reading its value
        Arrays.fill(bytes, 1, 12, (byte) 0xFF);
        failsWith(bytes, "malformed varint");
        byte[] tag = new byte[11];
        Arrays.fill(tag, (byte) 0xFF);
        failsWith(tag, "malformed varint");
        failsWith(new byte[] {0x20, (byte) 0x80}, "truncated varint");
    }

    @Test
    void wrongWireType() throws IOException {
        failsWith(new byte[] {0x08, 0x01}, "field pieces (1) must have wire type 2");
        failsWith(new byte[] {0x0B}, "group wire type");
        failsWith(new byte[] {0x0F}, "invalid wire type 7");
    }

    @Test
    void lengthBeyondEnd() throws IOException {
        failsWith(new byte[] {0x0A, 0x05, 0x01}, "exceeds the 1 bytes left");
        // a 2^62 length must not be allocated
        failsWith(new byte[] {0x0A, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
            (byte) 0x80, (byte) 0x80, 0x40}, "exceeds");
    }

    @Test
    void notBpe() throws IOException {
        failsWith(model(m -> m.modelType = 1), "UNIGRAM (1), expected BPE");
    }

    @Test
    void gemmaNormalizerSettingsAreRequired() throws IOException {
        failsWith(model(m -> m.addDummyPrefix = null), "add_dummy_prefix must be false"); // proto2 default true
        failsWith(model(m -> m.removeExtraWhitespaces = true), "remove_extra_whitespaces must be false");
        failsWith(model(m -> m.escapeWhitespaces = false), "escape_whitespaces must be true");
        failsWith(model(m -> m.byteFallback = false), "byte_fallback must be true");
    }

    @Test
    void missingBytePiece() throws IOException {
        failsWith(model(m -> m.pieces.removeIf(p -> p.piece().equals("<0x41>"))), "<0x41> is missing");
    }

    @Test
    void badBytePieceName() throws IOException {
        failsWith(model(m -> m.pieces.set(m.idOf("<0x41>"), new SyntheticModel.Piece("<0x4a>", 0, PieceType.BYTE))),
                "not of the form <0xHH>");
    }

    @Test
    void duplicatePieces() throws IOException {
        failsWith(model(m -> m.pieces.add(new SyntheticModel.Piece("ab", -9, PieceType.NORMAL))), "defined twice");
        failsWith(model(m -> m.pieces.add(new SyntheticModel.Piece("<start_of_turn>", 0, PieceType.NORMAL))),
                "defined twice");
        failsWith(model(m -> m.pieces.add(new SyntheticModel.Piece("<unk2>", 0, PieceType.UNKNOWN))),
                "two UNKNOWN pieces");
    }

    @Test
    void samePieceMayBeReservedAndMergeable() throws IOException {
        // SentencePiece keeps two maps; "<bos>" may be CONTROL and NORMAL at once. Lookups prefer the reserved one.
        write(model(m -> m.pieces.add(new SyntheticModel.Piece("<bos>", -5, PieceType.NORMAL))));
        GemmaTokenizer tok = GemmaTokenizer.load(dir);
        assertEquals(2, tok.idOf("<bos>").orElseThrow());
        assertEquals(2, tok.bosId());
    }

    @Test
    void missingOrEmptyPieceAndUnknown() throws IOException {
        failsWith(model(m -> m.pieces.removeIf(p -> p.type() == PieceType.UNKNOWN)), "no UNKNOWN piece");
        failsWith(model(m -> m.pieces.add(new SyntheticModel.Piece("", 0, PieceType.NORMAL))), "is empty");
    }

    @Test
    void unknownPieceType() throws IOException {
        SyntheticModel.Writer piece = new SyntheticModel.Writer();
        piece.string(1, "x");
        piece.varintField(3, 9);
        SyntheticModel.Writer model = new SyntheticModel.Writer();
        model.message(1, piece);
        failsWith(model.out.toByteArray(), "unknown piece type 9");
    }

    @Test
    void negativeInt32VarintsAndProto2Defaults() {
        SyntheticModel m = SyntheticModel.gemmaLike(List.of(), List.of("a"));
        m.padId = -1;
        ModelProto proto = ModelProtoParser.parse(m.toBytes(), "synthetic");
        assertEquals(-1, proto.trainer().padId());
        assertEquals(2, proto.trainer().bosId());
        assertTrue(proto.normalizer().escapeWhitespaces()); // absent: default true
        assertEquals(PieceType.NORMAL, proto.pieces().getLast().type());
        // An empty ModelProto body is parsed with proto2 defaults: UNIGRAM and add_dummy_prefix=true.
        ModelProto empty = ModelProtoParser.parse(new byte[] {0x12, 0x00}, "x");
        assertEquals(1, empty.trainer().modelType());
        assertTrue(empty.normalizer().addDummyPrefix());
        assertEquals(0, empty.trainer().unkId());
        assertEquals(-1, empty.trainer().padId());
    }

    @Test
    void missingFiles(@TempDir Path empty) {
        TokenizerException e = assertThrows(TokenizerException.class, () -> GemmaTokenizer.load(empty));
        assertTrue(e.getMessage().contains(empty.toString()) && e.getMessage().contains("tokenizer.model")
                && e.getMessage().contains("tokenizer.json"), e.getMessage());
        Path nowhere = empty.resolve("does-not-exist");
        e = assertThrows(TokenizerException.class, () -> GemmaTokenizer.load(nowhere));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> GemmaTokenizer.fromSentencePieceModel(nowhere));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void idOutOfRange() {
        GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir("tiny-1k"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tok.decode(new int[] {5, 1000}));
        assertTrue(e.getMessage().contains("1000") && e.getMessage().contains("0..999"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
        assertThrows(IllegalArgumentException.class, () -> tok.piece(1000));
        assertThrows(IllegalArgumentException.class, () -> tok.pieceType(-3));
    }
}
