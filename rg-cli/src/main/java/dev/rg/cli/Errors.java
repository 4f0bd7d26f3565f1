package dev.rg.cli;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** Turns an exception into the one line a user reads. */
final class Errors {
    private Errors() {}

    static String describe(Throwable e) {
        Throwable t = e;
        while ((t instanceof UncheckedIOException || t.getMessage() == null) && t.getCause() != null) {
            t = t.getCause();
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
