package dev.rg.quant.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) reader, so that rg-quant depends on nothing but rg-api and the JDK. It reads
 * bitsandbytes' quant_state blobs (and, in tests, safetensors headers). Not exported from the module.
 *
 * <p>Values become: objects {@code Map<String, Object>} (unmodifiable, in document order), arrays
 * {@code List<Object>} (unmodifiable), strings {@code String}, numbers {@code Long} when written without
 * fraction or exponent and within range, otherwise {@code Double} (correctly rounded), {@code Boolean}, and
 * {@code null}.
 *
 * <p>Refused, with the character offset in the message: anything outside the grammar (trailing commas, single
 * quotes, comments, {@code NaN}, leading zeros, a lone {@code -}), raw control characters in strings, bad
 * escapes, duplicate keys, numbers that overflow a double, nesting deeper than 256, text after the value, and
 * (for bytes) malformed UTF-8.
 */
public final class Json {
    private static final int MAX_DEPTH = 256;

    private final String s;
    private int pos;

    private Json(String s) {
        this.s = s;
    }

    /** Parses UTF-8 bytes holding exactly one JSON value. */
    public static Object parse(byte[] utf8) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("invalid JSON: not valid UTF-8 (" + e.getMessage() + ")", e);
        }
        return parse(text);
    }

    /** Parses a string holding exactly one JSON value. */
    public static Object parse(String text) {
        Json p = new Json(text);
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the value");
        }
        return v;
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        if (pos >= s.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = s.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected character " + describe(c) + ", expected a value");
            }
        };
    }

    private Map<String, Object> object(int depth) {
        pos++; // '{'
        Map<String, Object> m = new LinkedHashMap<>();
        skipWs();
        if (peek() == '}') {
            pos++;
            return Collections.unmodifiableMap(m);
        }
        while (true) {
            skipWs();
            if (peek() != '"') {
                throw error("expected a string key");
            }
            int keyAt = pos;
            String key = string();
            if (m.containsKey(key)) {
                pos = keyAt;
                throw error("duplicate key \"" + key + "\"");
            }
            skipWs();
            expect(':');
            skipWs();
            m.put(key, value(depth + 1));
            skipWs();
            char c = peek();
            pos++;
            if (c == '}') {
                return Collections.unmodifiableMap(m);
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}' in object");
            }
        }
    }

    private List<Object> array(int depth) {
        pos++; // '['
        List<Object> l = new ArrayList<>();
        skipWs();
        if (peek() == ']') {
            pos++;
            return Collections.unmodifiableList(l);
        }
        while (true) {
            skipWs();
            l.add(value(depth + 1));
            skipWs();
            char c = peek();
            pos++;
            if (c == ']') {
                return Collections.unmodifiableList(l);
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']' in array");
            }
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                pos--;
                throw error("raw control character " + describe(c) + " in string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (pos >= s.length()) {
                throw error("unterminated escape");
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> b.append(hex4());
                default -> {
                    pos--;
                    throw error("invalid escape \\" + e);
                }
            }
        }
    }

    private char hex4() {
        if (pos + 4 > s.length()) {
            throw error("truncated \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(s.charAt(pos + i), 16);
            if (d < 0) {
                throw error("invalid \\u escape");
            }
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private Object number() {
        int start = pos;
        boolean integral = true;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
            if (isDigit(peek())) {
                throw error("leading zero in number");
            }
        } else {
            digits("a digit");
        }
        if (peek() == '.') {
            integral = false;
            pos++;
            digits("a digit after '.'");
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            digits("a digit in the exponent");
        }
        String text = s.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException tooBig) {
                // fall through: an integer beyond the long range becomes a double
            }
        }
        double d = Double.parseDouble(text);
        if (Double.isInfinite(d)) {
            pos = start;
            throw error("number " + text + " overflows a double");
        }
        return d;
    }

    private void digits(String what) {
        if (!isDigit(peek())) {
            throw error("expected " + what);
        }
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, pos)) {
            throw error("invalid literal, expected " + word);
        }
        pos += word.length();
        return v;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    /** The next character, or NUL at the end (NUL never appears unescaped in valid JSON outside strings). */
    private char peek() {
        return pos < s.length() ? s.charAt(pos) : '\0';
    }

    private void skipWs() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private static String describe(char c) {
        return c < 0x20 || c > 0x7e ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }

    private IllegalArgumentException error(String msg) {
        String at = pos >= s.length() ? "end of input" : "offset " + pos;
        return new IllegalArgumentException("invalid JSON at " + at + ": " + msg);
    }
}
