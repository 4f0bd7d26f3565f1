package dev.rg.core.tokenizer;

/**
 * SentencePiece's UTF-8 reading rule for runs of byte pieces ({@code string_util::DecodeUTF8}).
 *
 * <p>At each offset a character is valid when its lead byte is below 0x80, or when it is a 2-, 3- or 4-byte
 * form with continuation bytes {@code 10xxxxxx}, not overlong, not a surrogate and at most U+10FFFF. Otherwise
 * the decoder emits one U+FFFD and consumes <em>one</em> byte. This differs from Java's decoder, which replaces a
 * truncated sequence (maximal subpart) with a single U+FFFD.
 */
final class Utf8 {
    /** Returned by {@link #decode} for an invalid byte; the caller emits U+FFFD and advances one byte. */
    static final int INVALID = -1;

    private Utf8() {}

    /**
     * Decodes the character at {@code bytes[pos]} with only {@code bytes[pos..end)} available, packed as
     * {@code length << 32 | codePoint}, or {@link #INVALID} (length 1 implied).
     */
    static long decode(byte[] bytes, int pos, int end) {
        int b0 = bytes[pos] & 0xFF;
        int len = end - pos;
        if (b0 < 0x80) {
            return 1L << 32 | b0;
        }
        if (len >= 2 && (b0 & 0xE0) == 0xC0) {
            int b1 = bytes[pos + 1] & 0xFF;
            int cp = (b0 & 0x1F) << 6 | (b1 & 0x3F);
            if (isTrail(b1) && cp >= 0x80 && isValidCodePoint(cp)) {
                return 2L << 32 | cp;
            }
        } else if (len >= 3 && (b0 & 0xF0) == 0xE0) {
            int b1 = bytes[pos + 1] & 0xFF;
            int b2 = bytes[pos + 2] & 0xFF;
            int cp = (b0 & 0x0F) << 12 | (b1 & 0x3F) << 6 | (b2 & 0x3F);
            if (isTrail(b1) && isTrail(b2) && cp >= 0x800 && isValidCodePoint(cp)) {
                return 3L << 32 | cp;
            }
        } else if (len >= 4 && (b0 & 0xF8) == 0xF0) {
            int b1 = bytes[pos + 1] & 0xFF;
            int b2 = bytes[pos + 2] & 0xFF;
            int b3 = bytes[pos + 3] & 0xFF;
            int cp = (b0 & 0x07) << 18 | (b1 & 0x3F) << 12 | (b2 & 0x3F) << 6 | (b3 & 0x3F);
            if (isTrail(b1) && isTrail(b2) && isTrail(b3) && cp >= 0x10000 && isValidCodePoint(cp)) {
                return 4L << 32 | cp;
            }
        }
        return INVALID;
    }

    /** How many bytes {@link #decode} needs to decide about the character starting with {@code lead}. */
    static int neededLength(int lead) {
        if ((lead & 0xE0) == 0xC0) {
            return 2;
        }
        if ((lead & 0xF0) == 0xE0) {
            return 3;
        }
        if ((lead & 0xF8) == 0xF0) {
            return 4;
        }
        return 1;
    }

    /**
     * Whether the incomplete sequence {@code bytes[pos..end)} (shorter than {@link #neededLength}) can still
     * become a valid character. When it cannot, {@link #decode} will call its lead byte invalid whatever bytes
     * follow, so a streaming decoder may emit U+FFFD for it at once.
     */
    static boolean canBecomeValid(byte[] bytes, int pos, int end) {
        int b0 = bytes[pos] & 0xFF;
        if (b0 < 0xC2 || b0 > 0xF4) {
            return false; // C0/C1 are always overlong; F5..F7 always exceed U+10FFFF
        }
        if (end - pos >= 2) {
            int b1 = bytes[pos + 1] & 0xFF;
            int lo = 0x80;
            int hi = 0xBF;
            switch (b0) {
                case 0xE0 -> lo = 0xA0; // below: overlong (< U+0800)
                case 0xED -> hi = 0x9F; // above: surrogates U+D800..U+DFFF
                case 0xF0 -> lo = 0x90; // below: overlong (< U+10000)
                case 0xF4 -> hi = 0x8F; // above: beyond U+10FFFF
                default -> { }
            }
            if (b1 < lo || b1 > hi) {
                return false;
            }
        }
        return end - pos < 3 || isTrail(bytes[pos + 2] & 0xFF);
    }

    static int length(long decoded) {
        return (int) (decoded >>> 32);
    }

    static int codePoint(long decoded) {
        return (int) decoded;
    }

    private static boolean isTrail(int b) {
        return (b & 0xC0) == 0x80;
    }

    private static boolean isValidCodePoint(int cp) {
        return cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF);
    }
}
