package dev.rg.core.tokenizer;

import java.util.List;

/**
 * Turns a parsed {@link ModelProto} into a {@link Vocabulary} and a {@link SentencePieceBpe} encoder, after the
 * checks SentencePiece itself makes when loading ({@code ModelInterface::InitializePieces}) and the checks that
 * the model is a Gemma-style one whose behaviour {@link SentencePieceBpe} reproduces exactly.
 */
final class SentencePieceModelLoader {
    private SentencePieceModelLoader() {}

    /** Builds the vocabulary; {@code source} names the file in errors. */
    static Vocabulary vocabulary(ModelProto model, String source) {
        checkGemmaSettings(model, source);
        List<ModelProto.Piece> pieces = model.pieces();
        int n = pieces.size();
        if (n == 0) {
            throw new TokenizerException(source + ": the model has no pieces");
        }
        String[] strings = new String[n];
        PieceType[] types = new PieceType[n];
        float[] scores = new float[n];
        int[] byteOf = new int[n];
        int unkId = -1;
        int bytePieces = 0;
        for (int id = 0; id < n; id++) {
            ModelProto.Piece p = pieces.get(id);
            strings[id] = p.piece();
            types[id] = p.type();
            scores[id] = p.score();
            byteOf[id] = -1;
            if (p.type() == PieceType.UNKNOWN) {
                if (unkId >= 0) {
                    throw new TokenizerException(source + ": two UNKNOWN pieces (ids " + unkId + " and " + id
                            + "); a SentencePiece model has exactly one");
                }
                unkId = id;
            } else if (p.type() == PieceType.BYTE) {
                if (!model.trainer().byteFallback()) {
                    throw new TokenizerException(source + ": byte piece " + id + " although byte_fallback is false");
                }
                byteOf[id] = Vocabulary.byteOfPieceName(p.piece());
                if (byteOf[id] < 0) {
                    throw new TokenizerException(source + ": byte piece " + id + " '"
                            + Vocabulary.printable(p.piece()) + "' is not of the form <0xHH> (uppercase hex)");
                }
                bytePieces++;
            }
        }
        if (unkId < 0) {
            throw new TokenizerException(source + ": no UNKNOWN piece; a SentencePiece model has exactly one");
        }
        // Empty pieces, duplicates and duplicate bytes are rejected by the Vocabulary constructor.
        Vocabulary provisional = new Vocabulary(source, strings, types, scores, byteOf, unkId, -1, -1, -1, "");
        if (bytePieces != 256) {
            for (int b = 0; b < 256; b++) {
                if (provisional.idOfByte(b) < 0) {
                    throw new TokenizerException(source + ": byte_fallback is on but the byte piece "
                            + String.format("<0x%02X>", b) + " is missing (all 256 are required)");
                }
            }
        }
        ModelProto.TrainerSpec t = model.trainer();
        int bosId = specialId(provisional, t.bosPiece(), "<s>", PieceType.CONTROL);
        int eosId = specialId(provisional, t.eosPiece(), "</s>", PieceType.CONTROL);
        int padId = specialId(provisional, t.padPiece(), "<pad>", PieceType.CONTROL);
        return new Vocabulary(source, strings, types, scores, byteOf, unkId, bosId, eosId, padId, t.unkSurface());
    }

    /**
     * SentencePiece's {@code bos_id()} etc.: the id of the trainer spec's piece name (a default when empty), if
     * that piece has the expected type, else -1. The numeric {@code bos_id} fields are not what the library
     * reports, so they are not used either.
     */
    private static int specialId(Vocabulary vocab, String piece, String defaultPiece, PieceType expected) {
        String name = piece.isEmpty() ? defaultPiece : piece;
        int id = vocab.pieceToId(name);
        return id >= 0 && vocab.type(id) == expected ? id : -1;
    }

    /**
     * Fails unless the model is BPE with Gemma's normalization settings. {@link SentencePieceBpe} implements
     * exactly that configuration; any other one would silently encode differently from SentencePiece.
     */
    private static void checkGemmaSettings(ModelProto model, String source) {
        ModelProto.TrainerSpec t = model.trainer();
        ModelProto.NormalizerSpec ns = model.normalizer();
        if (t.modelType() != ModelProto.MODEL_TYPE_BPE) {
            throw new TokenizerException(source + ": trainer_spec.model_type is " + modelTypeName(t.modelType())
                    + ", expected BPE (2) as in Gemma's tokenizer");
        }
        if (ns.precompiledCharsmapLength() != 0) {
            throw new TokenizerException(source + ": normalizer_spec '" + ns.name() + "' has a precompiled_charsmap ("
                    + ns.precompiledCharsmapLength() + " bytes); only the identity normalizer of Gemma is supported");
        }
        require(!ns.addDummyPrefix(), source, "normalizer_spec.add_dummy_prefix must be false");
        require(!ns.removeExtraWhitespaces(), source, "normalizer_spec.remove_extra_whitespaces must be false");
        require(ns.escapeWhitespaces(), source, "normalizer_spec.escape_whitespaces must be true");
        require(!t.treatWhitespaceAsSuffix(), source, "trainer_spec.treat_whitespace_as_suffix must be false");
        require(t.byteFallback(), source, "trainer_spec.byte_fallback must be true");
        ModelProto.NormalizerSpec dn = model.denormalizer();
        if (dn != null && dn.precompiledCharsmapLength() != 0) {
            throw new TokenizerException(source + ": the model has a denormalizer_spec with rules; not supported");
        }
    }

    private static void require(boolean ok, String source, String what) {
        if (!ok) {
            throw new TokenizerException(source + ": " + what + " for a Gemma tokenizer");
        }
    }

    private static String modelTypeName(int type) {
        return switch (type) {
            case 1 -> "UNIGRAM (1)";
            case 2 -> "BPE (2)";
            case 3 -> "WORD (3)";
            case 4 -> "CHAR (4)";
            default -> "unknown (" + type + ")";
        };
    }
}
