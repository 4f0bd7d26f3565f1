package dev.rg.core.tokenizer;

/**
 * SentencePiece's {@code Decode} for ids ({@code SentencePieceProcessor::Decode}), with Gemma's settings.
 *
 * <ul>
 *   <li>CONTROL ids ({@code <pad>}, {@code <eos>}, {@code <bos>}) decode to nothing.</li>
 *   <li>The UNKNOWN id decodes to the model's {@code unk_surface}, {@code " \u2047 "} by default.</li>
 *   <li>A run of consecutive BYTE pieces is read as UTF-8 with {@link Utf8}'s rule: U+FFFD and one byte
 *       consumed per invalid byte. Any other id ends the run, so a control id between bytes splits it.</li>
 *   <li>Every other piece (NORMAL, USER_DEFINED, UNUSED) decodes to its text with U+2581 replaced by a space.</li>
 *   <li>No leading space is stripped: SentencePiece only does that with {@code add_dummy_prefix} or
 *       {@code remove_extra_whitespaces}, both false for Gemma.</li>
 * </ul>
 */
final class PieceDecoder {
    private final Vocabulary vocab;

    PieceDecoder(Vocabulary vocab) {
        this.vocab = vocab;
    }

    String decode(int[] ids) {
        StringBuilder out = new StringBuilder(ids.length * 4);
        byte[] run = new byte[16];
        int runLength = 0;
        for (int id : ids) {
            vocab.checkId(id);
            int b = vocab.byteOf(id);
            if (b >= 0) {
                if (runLength == run.length) {
                    run = java.util.Arrays.copyOf(run, run.length * 2);
                }
                run[runLength++] = (byte) b;
                continue;
            }
            appendByteRun(run, 0, runLength, out);
            runLength = 0;
            appendPiece(id, out);
        }
        appendByteRun(run, 0, runLength, out);
        return out.toString();
    }

    /** Appends the surface of a non-BYTE piece. */
    void appendPiece(int id, StringBuilder out) {
        switch (vocab.type(id)) {
            case CONTROL -> { }
            case UNKNOWN -> out.append(vocab.unkSurface());
            default -> out.append(vocab.piece(id).replace('\u2581', ' '));
        }
    }

    /** Appends the complete byte run {@code bytes[from..to)} as text with SentencePiece's invalid-byte rule. */
    static void appendByteRun(byte[] bytes, int from, int to, StringBuilder out) {
        int pos = from;
        while (pos < to) {
            pos += appendCharAt(bytes, pos, to, out);
        }
    }

    /** Appends the character (or U+FFFD) at {@code pos} and returns the number of bytes consumed. */
    static int appendCharAt(byte[] bytes, int pos, int end, StringBuilder out) {
        long decoded = Utf8.decode(bytes, pos, end);
        if (decoded == Utf8.INVALID) {
            out.append(InputText.REPLACEMENT);
            return 1;
        }
        out.appendCodePoint(Utf8.codePoint(decoded));
        return Utf8.length(decoded);
    }
}
