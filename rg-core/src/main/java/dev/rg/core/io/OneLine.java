package dev.rg.core.io;

/**
 * Error messages quote what they found in a file (a field's value, a piece, a key), and a file can hold line
 * breaks and other control characters there: escaped here, so that every error stays one line.
 */
public final class OneLine {
    private OneLine() {}

    /** {@code message} with control characters written as {@code \n}, {@code \t}, {@code \u0000}-style escapes. */
    public static String of(String message) {
        if (message == null) {
            return null;
        }
        StringBuilder sb = null;
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                if (sb == null) {
                    sb = new StringBuilder(message.length() + 8).append(message, 0, i);
                }
                switch (c) {
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> sb.append(String.format("\\u%04x", (int) c));
                }
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? message : sb.toString();
    }
}
