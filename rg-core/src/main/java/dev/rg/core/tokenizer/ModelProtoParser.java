package dev.rg.core.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the bytes of a SentencePiece {@code tokenizer.model} into a {@link ModelProto}.
 *
 * <p>Only the wire format is checked here (lengths, varints, wire types, UTF-8, enum values); whether the
 * model is usable is {@link SentencePieceModelLoader}'s job. Unknown fields are skipped, as protobuf requires.
 * A singular message field that occurs twice is merged field by field, also as protobuf requires.
 */
final class ModelProtoParser {
    private ModelProtoParser() {}

    /** Parses {@code data}; {@code source} names the file in error messages. */
    static ModelProto parse(byte[] data, String source) {
        if (data.length == 0) {
            throw new TokenizerException(source + ": empty file, expected a SentencePiece ModelProto");
        }
        ProtoReader in = ProtoReader.of(data, source, "ModelProto");
        List<ModelProto.Piece> pieces = new ArrayList<>();
        TrainerBuilder trainer = new TrainerBuilder();
        NormalizerBuilder normalizer = new NormalizerBuilder();
        NormalizerBuilder denormalizer = null;
        while (in.hasRemaining()) {
            int tag = in.readTag();
            switch (ProtoReader.fieldOf(tag)) {
                case 1 -> {
                    in.expectWire(tag, ProtoReader.WIRE_LEN, "pieces");
                    pieces.add(parsePiece(in.readMessage("pieces[" + pieces.size() + "]")));
                }
                case 2 -> {
                    in.expectWire(tag, ProtoReader.WIRE_LEN, "trainer_spec");
                    trainer.merge(in.readMessage("trainer_spec"));
                }
                case 3 -> {
                    in.expectWire(tag, ProtoReader.WIRE_LEN, "normalizer_spec");
                    normalizer.merge(in.readMessage("normalizer_spec"));
                }
                case 5 -> {
                    in.expectWire(tag, ProtoReader.WIRE_LEN, "denormalizer_spec");
                    if (denormalizer == null) {
                        denormalizer = new NormalizerBuilder();
                    }
                    denormalizer.merge(in.readMessage("denormalizer_spec"));
                }
                default -> in.skip(tag);
            }
        }
        return new ModelProto(List.copyOf(pieces), trainer.build(), normalizer.build(),
                denormalizer == null ? null : denormalizer.build());
    }

    private static ModelProto.Piece parsePiece(ProtoReader in) {
        String piece = "";
        float score = 0f;
        PieceType type = PieceType.NORMAL; // proto2 default: the trainer omits type for NORMAL pieces
        while (in.hasRemaining()) {
            int tag = in.readTag();
            switch (ProtoReader.fieldOf(tag)) {
                case 1 -> {
                    in.expectWire(tag, ProtoReader.WIRE_LEN, "piece");
                    piece = in.readString("piece");
                }
                case 2 -> {
                    in.expectWire(tag, ProtoReader.WIRE_FIXED32, "score");
                    score = in.readFloat();
                }
                case 3 -> {
                    in.expectWire(tag, ProtoReader.WIRE_VARINT, "type");
                    long value = in.readVarint();
                    type = PieceType.fromProto(value);
                    if (type == null) {
                        // The C++ runtime would silently keep NORMAL; an unknown type means a model we do not know.
                        throw in.error("unknown piece type " + value + " (expected 1..6)");
                    }
                }
                default -> in.skip(tag);
            }
        }
        return new ModelProto.Piece(piece, score, type);
    }

    /** Accumulates {@code TrainerSpec} fields over one or more occurrences, starting from proto2 defaults. */
    private static final class TrainerBuilder {
        int modelType = 1; // UNIGRAM
        boolean byteFallback = false;
        boolean treatWhitespaceAsSuffix = false;
        int unkId = 0;
        int bosId = 1;
        int eosId = 2;
        int padId = -1;
        String unkSurface = " \u2047 ";
        String unkPiece = "<unk>";
        String bosPiece = "<s>";
        String eosPiece = "</s>";
        String padPiece = "<pad>";

        void merge(ProtoReader in) {
            while (in.hasRemaining()) {
                int tag = in.readTag();
                switch (ProtoReader.fieldOf(tag)) {
                    case 3 -> modelType = varint(in, tag, "model_type");
                    case 24 -> treatWhitespaceAsSuffix = bool(in, tag, "treat_whitespace_as_suffix");
                    case 35 -> byteFallback = bool(in, tag, "byte_fallback");
                    case 40 -> unkId = varint(in, tag, "unk_id");
                    case 41 -> bosId = varint(in, tag, "bos_id");
                    case 42 -> eosId = varint(in, tag, "eos_id");
                    case 43 -> padId = varint(in, tag, "pad_id");
                    case 44 -> unkSurface = string(in, tag, "unk_surface");
                    case 45 -> unkPiece = string(in, tag, "unk_piece");
                    case 46 -> bosPiece = string(in, tag, "bos_piece");
                    case 47 -> eosPiece = string(in, tag, "eos_piece");
                    case 48 -> padPiece = string(in, tag, "pad_piece");
                    default -> in.skip(tag);
                }
            }
        }

        ModelProto.TrainerSpec build() {
            return new ModelProto.TrainerSpec(modelType, byteFallback, treatWhitespaceAsSuffix, unkId, bosId, eosId,
                    padId, unkSurface, unkPiece, bosPiece, eosPiece, padPiece);
        }
    }

    /** Accumulates {@code NormalizerSpec} fields, starting from proto2 defaults (three booleans default true). */
    private static final class NormalizerBuilder {
        String name = "";
        int charsmapLength = 0;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
        String ruleTsv = "";

        void merge(ProtoReader in) {
            while (in.hasRemaining()) {
                int tag = in.readTag();
                switch (ProtoReader.fieldOf(tag)) {
                    case 1 -> name = string(in, tag, "name");
                    case 2 -> {
                        in.expectWire(tag, ProtoReader.WIRE_LEN, "precompiled_charsmap");
                        charsmapLength = in.skipBytes("precompiled_charsmap");
                    }
                    case 3 -> addDummyPrefix = bool(in, tag, "add_dummy_prefix");
                    case 4 -> removeExtraWhitespaces = bool(in, tag, "remove_extra_whitespaces");
                    case 5 -> escapeWhitespaces = bool(in, tag, "escape_whitespaces");
                    case 6 -> ruleTsv = string(in, tag, "normalization_rule_tsv");
                    default -> in.skip(tag);
                }
            }
        }

        ModelProto.NormalizerSpec build() {
            return new ModelProto.NormalizerSpec(name, charsmapLength, addDummyPrefix, removeExtraWhitespaces,
                    escapeWhitespaces, ruleTsv);
        }
    }

    private static int varint(ProtoReader in, int tag, String name) {
        in.expectWire(tag, ProtoReader.WIRE_VARINT, name);
        return in.readInt32();
    }

    private static boolean bool(ProtoReader in, int tag, String name) {
        in.expectWire(tag, ProtoReader.WIRE_VARINT, name);
        return in.readBool();
    }

    private static String string(ProtoReader in, int tag, String name) {
        in.expectWire(tag, ProtoReader.WIRE_LEN, name);
        return in.readString(name);
    }
}
