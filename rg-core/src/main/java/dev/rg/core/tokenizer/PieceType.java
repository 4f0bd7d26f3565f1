package dev.rg.core.tokenizer;

/**
 * The type of a vocabulary piece, as in SentencePiece's {@code ModelProto.SentencePiece.Type}. The type decides
 * how a piece takes part in encoding (only NORMAL, USER_DEFINED and UNUSED pieces can come out of text) and how
 * it decodes (CONTROL pieces vanish, UNKNOWN decodes to the unknown surface, BYTE pieces are reassembled as
 * UTF-8).
 */
public enum PieceType {
    /** An ordinary piece; the result of BPE merges or a single character. */
    NORMAL(1),
    /** The one {@code <unk>} piece. Never produced by encoding when byte fallback is on. */
    UNKNOWN(2),
    /** {@code <pad>}, {@code <eos>}, {@code <bos>}: never produced from text, invisible when decoded. */
    CONTROL(3),
    /** Matched greedily (longest first) in the input before BPE and never merged, e.g. {@code <start_of_turn>}. */
    USER_DEFINED(4),
    /** A piece that may be formed while merging but is split back into its two halves afterwards. */
    UNUSED(5),
    /** One raw byte, {@code <0x00>}..{@code <0xFF>}, used for characters without a piece. */
    BYTE(6);

    private final int protoValue;

    PieceType(int protoValue) {
        this.protoValue = protoValue;
    }

    /** The enum number used in {@code sentencepiece_model.proto}. */
    public int protoValue() {
        return protoValue;
    }

    /** The type with this proto number, or {@code null} when the number is not a known type. */
    static PieceType fromProto(long value) {
        for (PieceType t : values()) {
            if (t.protoValue == value) {
                return t;
            }
        }
        return null;
    }

    /** Whether a piece of this type takes part in merging (SentencePiece's {@code pieces_} map). */
    boolean isMergeable() {
        return this == NORMAL || this == USER_DEFINED || this == UNUSED;
    }
}
