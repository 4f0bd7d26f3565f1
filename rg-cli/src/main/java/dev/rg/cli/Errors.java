package dev.rg.cli;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** Turns an exception into the one line a user reads. */
final class Errors {
    private Errors() {}

    static String describe(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            Throwable cause = t.getCause();
            String m = t.getMessage();
            if (m == null || m.equals(cause.toString())) {
                t = cause; // a bare wrapper: the cause says it
                continue;
            }
            if (t instanceof UncheckedIOException) {
                // our own wrapper names the file the user gave (not, say, the temporary it was written through): keep it,
                // with the cause's reason when the message does not already hold it
                String reason = cause.getMessage();
                return dev.rg.core.io.OneLine.of(reason == null || m.contains(reason) ? m : m + ": " + describe(cause));
            }
            break;
        }
        if (t instanceof NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if (t instanceof OutOfMemoryError) {
            return "out of memory (" + t.getMessage() + "); give Java more heap (e.g. RG_JAVA_OPTS=-Xmx8g), or use a smaller"
                    + " --format (int8, nf4), batch or --max-tokens";
        }
        String msg = t.getMessage();
        return msg == null ? t.getClass().getSimpleName() : dev.rg.core.io.OneLine.of(msg); // never more than one line
    }
}
