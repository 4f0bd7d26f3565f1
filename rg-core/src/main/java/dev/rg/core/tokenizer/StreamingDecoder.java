package dev.rg.core.tokenizer;

/**
 * Decodes ids one at a time during generation and returns text as soon as it is final.
 *
 * <p>Every piece except a BYTE piece is final on its own. Byte-fallback characters arrive as 2 to 4 BYTE ids,
 * so the decoder holds back an incomplete UTF-8 sequence until it is complete, until it can no longer become
 * valid, or until a non-byte id (or {@link #flush()}) ends the run. The concatenation of everything
 * {@link #feed(int)} and {@link #flush()} return is exactly {@link GemmaTokenizer#decode(int[])} of the same
 * ids, including SentencePiece's one-U+FFFD-per-invalid-byte rule.
 *
 * <p>Instances are not thread-safe; use one per generation stream.
 */
public final class StreamingDecoder {
    private final Vocabulary vocab;
    private final PieceDecoder pieces;
    private byte[] pending = new byte[8];
    private int pendingLength;

    StreamingDecoder(Vocabulary vocab, PieceDecoder pieces) {
        this.vocab = vocab;
        this.pieces = pieces;
    }

    /**
     * Adds one id and returns the text that became final, possibly empty.
     *
     * @throws IllegalArgumentException if {@code id} is not in the vocabulary (the decoder's state is unchanged)
     */
    public String feed(int id) {
        vocab.checkId(id);
        StringBuilder out = new StringBuilder();
        int b = vocab.byteOf(id);
        if (b >= 0) {
            if (pendingLength == pending.length) {
                pending = java.util.Arrays.copyOf(pending, pending.length * 2);
            }
            pending[pendingLength++] = (byte) b;
            drain(false, out);
        } else {
            drain(true, out);
            pieces.appendPiece(id, out);
        }
        return out.toString();
    }

    /** Ends the stream: returns the held-back bytes decoded (U+FFFD per invalid byte) and resets the decoder. */
    public String flush() {
        StringBuilder out = new StringBuilder();
        drain(true, out);
        return out.toString();
    }

    /** Whether bytes of an incomplete character are held back. */
    public boolean hasPendingBytes() {
        return pendingLength > 0;
    }

    /** Forgets any held-back bytes. */
    public void reset() {
        pendingLength = 0;
    }

    /**
     * Emits every character of the pending run that is decided. With {@code runEnded} the rest of the run is
     * complete and is decoded as the batch decoder would; otherwise an incomplete tail that may still become a
     * valid character stays pending.
     */
    private void drain(boolean runEnded, StringBuilder out) {
        int pos = 0;
        while (pos < pendingLength) {
            int lead = pending[pos] & 0xFF;
            if (!runEnded && pendingLength - pos < Utf8.neededLength(lead)) {
                if (Utf8.canBecomeValid(pending, pos, pendingLength)) {
                    break;
                }
                out.append(InputText.REPLACEMENT); // invalid whatever follows: the batch rule consumes one byte
                pos++;
                continue;
            }
            pos += PieceDecoder.appendCharAt(pending, pos, pendingLength, out);
        }
        System.arraycopy(pending, pos, pending, 0, pendingLength - pos);
        pendingLength -= pos;
    }
}
