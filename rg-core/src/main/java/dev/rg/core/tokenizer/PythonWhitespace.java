package dev.rg.core.tokenizer;

/**
 * Python's {@code str.strip()} with no arguments, which Jinja's {@code trim} filter calls and the Gemma chat
 * template applies to every message.
 *
 * <p>Python strips every character for which {@code str.isspace()} is true: U+0009..U+000D, U+001C..U+001F,
 * U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. Java's
 * {@code String.strip()} keeps U+0085, U+00A0, U+2007 and U+202F, and {@code trim()} strips all of U+0000..U+0020,
 * so neither is used. (JavaScript's {@code trim}, used by transformers.js, also strips U+FEFF but not
 * U+001C..U+001F; we follow Python, which is what transformers runs.)
 */
final class PythonWhitespace {
    private PythonWhitespace() {}

    static boolean isSpace(char c) {
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    static String strip(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && isSpace(s.charAt(from))) {
            from++;
        }
        while (to > from && isSpace(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }
}
