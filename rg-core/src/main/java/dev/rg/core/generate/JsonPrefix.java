package dev.rg.core.generate;

/**
 * Whether the bytes fed so far are the start of a JSON object (RFC 8259), fed one byte at a time: the automaton that
 * keeps a generation in JSON mode ({@link JsonConstraint}). A byte that could not continue any JSON object is
 * refused ({@link #feed} returns false and the state is then undefined: feed a {@link #copyFrom copy}). The top-level
 * value must be an object, as in OpenAI's {@code json_object} mode; {@link #complete} turns true when it closes.
 * Inside strings, bytes from 0x80 pass unchecked (UTF-8 is not validated), control bytes below 0x20 are refused.
 * Nesting deeper than {@link #MAX_DEPTH} is refused, which bounds the state.
 *
 * <p>Narrower than JSON in two ways, so that a model that would rather write prose cannot fill its budget with blanks:
 * the text starts with the brace itself (no whitespace before it), and at most {@link #MAX_BLANK} whitespace bytes
 * follow each other outside strings (room for pretty-printing, not for an endless run of newlines).
 */
public final class JsonPrefix {
    /** Deepest nesting of objects and arrays accepted. */
    public static final int MAX_DEPTH = 64;
    /** Most consecutive whitespace bytes outside strings. */
    public static final int MAX_BLANK = 16;

    // what the next byte may be
    private static final int START = 0; // whitespace or '{'
    private static final int VALUE = 1; // a value (after ':' or ',' in an array)
    private static final int KEY_OR_END = 2; // after '{': '"' or '}'
    private static final int KEY = 3; // after ',' in an object: '"'
    private static final int COLON = 4; // after a key
    private static final int AFTER_VALUE = 5; // ',' or the container's closing bracket
    private static final int VALUE_OR_END = 6; // after '[': a value or ']'
    private static final int STRING = 7;
    private static final int ESCAPE = 8; // after a backslash in a string
    private static final int UNICODE = 9; // hex digits of a \\u escape
    private static final int LITERAL = 10; // the rest of true, false or null
    private static final int NUMBER = 11;
    private static final int DONE = 12; // the object closed: whitespace only

    // number sub-states: what has been read of it
    private static final int MINUS = 0; // '-': a digit must follow
    private static final int ZERO = 1; // a leading 0: no more digits before '.' or 'e'
    private static final int INT = 2;
    private static final int DOT = 3; // '.': a digit must follow
    private static final int FRAC = 4;
    private static final int EXP = 5; // 'e': a sign or digit must follow
    private static final int EXP_SIGN = 6; // a digit must follow
    private static final int EXP_DIGITS = 7;

    private static final byte OBJECT = 'O';
    private static final byte ARRAY = 'A';

    private final byte[] stack = new byte[MAX_DEPTH];
    private int depth;
    private int mode = START;
    private boolean key; // the string being read is an object key
    private int number;
    private int hexLeft;
    private String literal;
    private int literalAt;
    private int blank; // consecutive whitespace bytes just fed, outside strings

    /** Makes this state a copy of {@code other}. */
    public void copyFrom(JsonPrefix other) {
        System.arraycopy(other.stack, 0, stack, 0, other.depth);
        depth = other.depth;
        mode = other.mode;
        key = other.key;
        number = other.number;
        hexLeft = other.hexLeft;
        literal = other.literal;
        literalAt = other.literalAt;
        blank = other.blank;
    }

    /** Whether the top-level object has closed. */
    public boolean complete() {
        return mode == DONE;
    }

    /** Whether the state is inside a string, past any escape: where every byte but '"', '\\' and controls keeps it. */
    public boolean inPlainString() {
        return mode == STRING;
    }

    /** Feeds {@code bytes}; false as soon as one cannot continue a JSON object. */
    public boolean feed(byte[] bytes) {
        for (byte b : bytes) {
            if (!feed(b & 0xFF)) {
                return false;
            }
        }
        return true;
    }

    /** Feeds one byte (0..255); false if it cannot continue a JSON object. */
    public boolean feed(int c) {
        if (mode != STRING && mode != ESCAPE && mode != UNICODE) {
            blank = whitespace(c) ? blank + 1 : 0;
            if (blank > MAX_BLANK) {
                return false;
            }
        }
        switch (mode) {
            case START:
                return c == '{' && open(OBJECT, KEY_OR_END);
            case DONE:
                return whitespace(c);
            case STRING:
                if (c == '"') {
                    mode = key ? COLON : AFTER_VALUE;
                    return true;
                }
                if (c == '\\') {
                    mode = ESCAPE;
                    return true;
                }
                return c >= 0x20;
            case ESCAPE:
                if (c == 'u') {
                    mode = UNICODE;
                    hexLeft = 4;
                    return true;
                }
                mode = STRING;
                return c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't';
            case UNICODE:
                if (Character.digit(c, 16) < 0) {
                    return false;
                }
                if (--hexLeft == 0) {
                    mode = STRING;
                }
                return true;
            case LITERAL:
                if (c != literal.charAt(literalAt)) {
                    return false;
                }
                if (++literalAt == literal.length()) {
                    mode = AFTER_VALUE;
                }
                return true;
            case NUMBER:
                return number(c);
            case KEY_OR_END:
                if (c == '}') {
                    return close(OBJECT);
                }
                // fall through: a key
            case KEY:
                if (whitespace(c)) {
                    return true;
                }
                if (c != '"') {
                    return false;
                }
                mode = STRING;
                key = true;
                return true;
            case COLON:
                if (whitespace(c)) {
                    return true;
                }
                if (c != ':') {
                    return false;
                }
                mode = VALUE;
                return true;
            case AFTER_VALUE:
                if (whitespace(c)) {
                    return true;
                }
                if (c == ',') {
                    mode = stack[depth - 1] == OBJECT ? KEY : VALUE;
                    return true;
                }
                return (c == '}' && close(OBJECT)) || (c == ']' && close(ARRAY));
            case VALUE_OR_END:
                if (c == ']') {
                    return close(ARRAY);
                }
                return value(c);
            case VALUE:
                return value(c);
            default:
                throw new IllegalStateException("mode " + mode);
        }
    }

    /** The first byte of a value. */
    private boolean value(int c) {
        if (whitespace(c)) {
            return true;
        }
        switch (c) {
            case '{':
                return open(OBJECT, KEY_OR_END);
            case '[':
                return open(ARRAY, VALUE_OR_END);
            case '"':
                mode = STRING;
                key = false;
                return true;
            case 't':
                return literal("true");
            case 'f':
                return literal("false");
            case 'n':
                return literal("null");
            case '-':
                mode = NUMBER;
                number = MINUS;
                return true;
            default:
                if (c >= '0' && c <= '9') {
                    mode = NUMBER;
                    number = c == '0' ? ZERO : INT;
                    return true;
                }
                return false;
        }
    }

    private boolean literal(String word) {
        mode = LITERAL;
        literal = word;
        literalAt = 1;
        return true;
    }

    /** A byte inside a number, or the byte that ends it (then read as what follows a value). */
    private boolean number(int c) {
        boolean digit = c >= '0' && c <= '9';
        switch (number) {
            case MINUS:
                number = c == '0' ? ZERO : INT;
                return digit;
            case DOT:
                number = FRAC;
                return digit;
            case EXP:
                if (c == '+' || c == '-') {
                    number = EXP_SIGN;
                    return true;
                }
                number = EXP_DIGITS;
                return digit;
            case EXP_SIGN:
                number = EXP_DIGITS;
                return digit;
            case ZERO:
            case INT:
            case FRAC:
            case EXP_DIGITS:
                if (digit && number != ZERO) {
                    return true;
                }
                if (c == '.' && (number == ZERO || number == INT)) {
                    number = DOT;
                    return true;
                }
                if ((c == 'e' || c == 'E') && number != EXP_DIGITS) {
                    number = EXP;
                    return true;
                }
                mode = AFTER_VALUE; // the number is complete: c belongs to what follows it
                return feed(c);
            default:
                throw new IllegalStateException("number state " + number);
        }
    }

    private boolean open(byte container, int next) {
        if (depth == MAX_DEPTH) {
            return false;
        }
        stack[depth++] = container;
        mode = next;
        return true;
    }

    private boolean close(byte container) {
        if (depth == 0 || stack[depth - 1] != container) {
            return false;
        }
        depth--;
        mode = depth == 0 ? DONE : AFTER_VALUE;
        return true;
    }

    private static boolean whitespace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }
}
