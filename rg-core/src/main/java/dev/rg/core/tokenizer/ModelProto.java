package dev.rg.core.tokenizer;

import java.util.List;

/**
 * The parts of SentencePiece's {@code ModelProto} (file {@code sentencepiece_model.proto}, proto2) that
 * encoding and decoding depend on, with proto2 defaults already applied. Training-only options are dropped.
 *
 * @param pieces the vocabulary in id order
 * @param trainer {@code trainer_spec} (field 2)
 * @param normalizer {@code normalizer_spec} (field 3)
 * @param denormalizer {@code denormalizer_spec} (field 5), or {@code null} when absent
 */
record ModelProto(List<Piece> pieces, TrainerSpec trainer, NormalizerSpec normalizer, NormalizerSpec denormalizer) {

    /** {@code TrainerSpec.ModelType.BPE}. */
    static final int MODEL_TYPE_BPE = 2;

    /** One {@code SentencePiece} entry; {@code type} defaults to NORMAL when absent on the wire. */
    record Piece(String piece, float score, PieceType type) {}

    /**
     * The {@code TrainerSpec} fields that matter at encode/decode time. Defaults are the proto's, which differ
     * from Gemma's values (e.g. {@code unk_id=0, bos_id=1, eos_id=2, pad_id=-1}): Gemma stores its own.
     */
    record TrainerSpec(
            int modelType,
            boolean byteFallback,
            boolean treatWhitespaceAsSuffix,
            int unkId,
            int bosId,
            int eosId,
            int padId,
            String unkSurface,
            String unkPiece,
            String bosPiece,
            String eosPiece,
            String padPiece) {}

    /**
     * The {@code NormalizerSpec} fields. {@code add_dummy_prefix}, {@code remove_extra_whitespaces} and
     * {@code escape_whitespaces} default to {@code true} when absent.
     */
    record NormalizerSpec(
            String name,
            int precompiledCharsmapLength,
            boolean addDummyPrefix,
            boolean removeExtraWhitespaces,
            boolean escapeWhitespaces,
            String normalizationRuleTsv) {}
}
