package dev.rg.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The lines of a batch input file, each at most a request body's size: a longer line is read past, not held, and
 * reported as {@link Line#tooLong}. Blank lines are skipped (a file's last line break, or spacing between requests).
 */
final class BatchInputLines implements AutoCloseable {
    /** Line {@code number} (from 1): its text, or null when it was longer than the limit. */
    record Line(long number, String text) {
        boolean tooLong() {
            return text == null;
        }
    }

    private final BufferedReader in;
    private final long maxChars;
    private long number;

    /** @param maxChars the longest line kept, in characters */
    BatchInputLines(Path file, long maxChars) throws IOException {
        this.in = new BufferedReader(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 16);
        this.maxChars = maxChars;
    }

    /**
     * The next line that is not blank, or null at the end.
     *
     * @throws IOException also when the file is not UTF-8 text (a {@link CharacterCodingException})
     */
    Line next() throws IOException {
        while (true) {
            StringBuilder text = new StringBuilder();
            boolean tooLong = false;
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (text.length() < maxChars) {
                    text.append((char) c);
                } else {
                    tooLong = true;
                }
            }
            if (c < 0 && text.isEmpty() && !tooLong) {
                return null;
            }
            number++;
            if (tooLong) {
                return new Line(number, null);
            }
            if (!text.toString().isBlank()) {
                return new Line(number, text.toString().strip());
            }
            if (c < 0) {
                return null;
            }
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
