package dev.rg.api.format;

/** A weight (or the checkpoint tensors it is made of) is malformed; the message names the tensor and the problem. */
public class InvalidWeightException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidWeightException(String message) {
        super(oneLine(message));
    }

    public InvalidWeightException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Control characters quoted from a file (a quant_type, a key) are escaped: an error stays one line. */
    private static String oneLine(String m) {
        if (m == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder(m.length());
        for (int i = 0; i < m.length(); i++) {
            char c = m.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                sb.append(c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
