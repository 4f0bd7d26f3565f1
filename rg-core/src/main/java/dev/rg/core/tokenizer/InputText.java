package dev.rg.core.tokenizer;

/**
 * Makes a Java {@link String} representable as UTF-8 before tokenization.
 *
 * <p>SentencePiece works on UTF-8 bytes and its normalizer replaces every invalid byte with U+FFFD. A Java
 * string can hold a lone surrogate, which has no UTF-8 form at all ({@code String.getBytes(UTF_8)} would give
 * {@code '?'}). The closest faithful behaviour is to treat a lone surrogate like the invalid UTF-8 it would be
 * and replace it with U+FFFD, one replacement per lone surrogate. No golden case covers this; it is the
 * documented choice of this package.
 */
final class InputText {
    static final char REPLACEMENT = '\uFFFD';

    private InputText() {}

    /** {@code text} with every lone surrogate replaced by U+FFFD; the same instance when there is none. */
    static String replaceLoneSurrogates(String text) {
        int n = text.length();
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c) && !isPairAt(text, i)) {
                break;
            }
            i += Character.isHighSurrogate(c) ? 2 : 1;
        }
        if (i >= n) {
            return text;
        }
        StringBuilder sb = new StringBuilder(n);
        sb.append(text, 0, i);
        while (i < n) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (isPairAt(text, i)) {
                    sb.append(c).append(text.charAt(i + 1));
                    i += 2;
                    continue;
                }
                sb.append(REPLACEMENT);
            } else {
                sb.append(c);
            }
            i++;
        }
        return sb.toString();
    }

    private static boolean isPairAt(String text, int i) {
        return Character.isHighSurrogate(text.charAt(i))
                && i + 1 < text.length()
                && Character.isLowSurrogate(text.charAt(i + 1));
    }
}
