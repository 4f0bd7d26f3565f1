package dev.rg.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small SentencePiece {@code ModelProto} files for tests, so each load check can be provoked in
 * isolation. Defaults describe a valid Gemma-like model: CONTROL/UNKNOWN ids 0-3, then the given user-defined
 * pieces, 256 byte pieces and the given NORMAL pieces with BPE scores 0, -1, -2, ...
 */
final class SyntheticModel {
    record Piece(String piece, float score, PieceType type) {}

    final List<Piece> pieces = new ArrayList<>();
    int modelType = 2;
    boolean byteFallback = true;
    Boolean addDummyPrefix = false;
    Boolean removeExtraWhitespaces = false;
    Boolean escapeWhitespaces = null; // absent: proto2 default true
    String normalizerName = "identity";
    int padId = 0;
    int eosId = 1;
    int bosId = 2;
    int unkId = 3;

    static SyntheticModel gemmaLike(List<String> userDefined, List<String> normal) {
        SyntheticModel m = new SyntheticModel();
        m.pieces.add(new Piece("<pad>", 0, PieceType.CONTROL));
        m.pieces.add(new Piece("<eos>", 0, PieceType.CONTROL));
        m.pieces.add(new Piece("<bos>", 0, PieceType.CONTROL));
        m.pieces.add(new Piece("<unk>", 0, PieceType.UNKNOWN));
        userDefined.forEach(p -> m.pieces.add(new Piece(p, 0, PieceType.USER_DEFINED)));
        for (int b = 0; b < 256; b++) {
            m.pieces.add(new Piece(String.format("<0x%02X>", b), 0, PieceType.BYTE));
        }
        for (int i = 0; i < normal.size(); i++) {
            m.pieces.add(new Piece(normal.get(i), -(float) i, PieceType.NORMAL));
        }
        return m;
    }

    int idOf(String piece) {
        for (int i = 0; i < pieces.size(); i++) {
            if (pieces.get(i).piece().equals(piece)) {
                return i;
            }
        }
        throw new IllegalArgumentException(piece);
    }

    byte[] toBytes() {
        Writer model = new Writer();
        for (Piece p : pieces) {
            Writer w = new Writer();
            w.string(1, p.piece());
            w.tag(2, 5);
            int bits = Float.floatToRawIntBits(p.score());
            for (int i = 0; i < 4; i++) {
                w.out.write(bits >>> (8 * i));
            }
            if (p.type() != PieceType.NORMAL) { // the trainer omits NORMAL, relying on the proto2 default
                w.varintField(3, p.type().protoValue());
            }
            model.message(1, w);
        }
        Writer trainer = new Writer();
        trainer.varintField(3, modelType);
        trainer.varintField(4, pieces.size());
        trainer.varintField(35, byteFallback ? 1 : 0);
        trainer.varintField(40, unkId);
        trainer.varintField(41, bosId);
        trainer.varintField(42, eosId);
        trainer.varintField(43, padId); // -1 is a 10-byte varint
        trainer.string(45, "<unk>");
        trainer.string(46, "<bos>");
        trainer.string(47, "<eos>");
        trainer.string(48, "<pad>");
        model.message(2, trainer);
        Writer normalizer = new Writer();
        normalizer.string(1, normalizerName);
        if (addDummyPrefix != null) {
            normalizer.varintField(3, addDummyPrefix ? 1 : 0);
        }
        if (removeExtraWhitespaces != null) {
            normalizer.varintField(4, removeExtraWhitespaces ? 1 : 0);
        }
        if (escapeWhitespaces != null) {
            normalizer.varintField(5, escapeWhitespaces ? 1 : 0);
        }
        model.message(3, normalizer);
        return model.out.toByteArray();
    }

    /** Minimal protobuf writer. */
    static final class Writer {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        }

        void tag(int field, int wire) {
            varint((long) field << 3 | wire);
        }

        void varintField(int field, long value) {
            tag(field, 0);
            varint(value);
        }

        void string(int field, String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            tag(field, 2);
            varint(b.length);
            out.writeBytes(b);
        }

        void message(int field, Writer w) {
            byte[] b = w.out.toByteArray();
            tag(field, 2);
            varint(b.length);
            out.writeBytes(b);
        }
    }
}
