package dev.rg.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The lines of a JSON Lines input, each one bounded and strictly UTF-8: a line that is too long or not UTF-8 is
 * a {@link Line} with an error (that row's problem; the next line is read as usual), so a bad row never ends a job
 * and a file with no line breaks cannot exhaust the heap. Blank lines are skipped.
 */
final class JsonlLines {
    /** One non-blank line: its number (from 1) and its text, or why it has none. */
    record Line(long number, String text, String error) {}

    /** The longest line read: as long as the longest prompt file. */
    static final int MAX_LINE_BYTES = PromptFile.MAX_BYTES;

    private final InputStream in;
    private final String name;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;
    private byte[] line = new byte[4096];
    private long number;
    /** The line {@link #peek} read ahead, while {@link #hasPeeked}. */
    private Line peeked;
    private boolean hasPeeked;

    /** @param name the input as errors name it */
    JsonlLines(InputStream in, String name) {
        this.in = in;
        this.name = name;
    }

    /** The next non-blank line, or null at the end of the input. */
    Line next() {
        if (hasPeeked) {
            hasPeeked = false;
            Line line = peeked;
            peeked = null;
            return line;
        }
        return read();
    }

    /** The line {@link #next} will return, without taking it (what decides the input's form). */
    Line peek() {
        if (!hasPeeked) {
            peeked = read();
            hasPeeked = true;
        }
        return peeked;
    }

    private Line read() {
        while (true) {
            int length = 0;
            boolean tooLong = false;
            boolean sawAny = false;
            while (true) {
                if (position == limit && !fill()) {
                    if (!sawAny) {
                        return null;
                    }
                    break;
                }
                sawAny = true;
                byte b = buffer[position++];
                if (b == '\n') {
                    break;
                }
                if (length < MAX_LINE_BYTES) {
                    if (length == line.length) {
                        line = java.util.Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, 2 * line.length));
                    }
                    line[length++] = b;
                } else {
                    tooLong = true; // the rest of the line is skipped, not kept
                }
            }
            number++;
            if (tooLong) {
                return new Line(number, null, "line " + number + " is longer than " + (MAX_LINE_BYTES >> 20) + " MiB");
            }
            if (length > 0 && line[length - 1] == '\r') {
                length--;
            }
            if (isBlank(line, length)) {
                continue;
            }
            return decode(length);
        }
    }

    private boolean fill() {
        try {
            int n = in.read(buffer);
            if (n <= 0) {
                return false;
            }
            position = 0;
            limit = n;
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": cannot read: " + dev.rg.core.io.IoReasons.of(e), e);
        }
    }

    private static boolean isBlank(byte[] bytes, int length) {
        for (int i = 0; i < length; i++) {
            if (bytes[i] != ' ' && bytes[i] != '\t') {
                return false;
            }
        }
        return true;
    }

    private Line decode(int length) {
        dev.rg.core.io.StrictUtf8.Decoded d = dev.rg.core.io.StrictUtf8.decode(line, length);
        if (d.text() == null) {
            return new Line(number, null, "line " + number + " is not UTF-8 (invalid byte at offset " + d.badOffset() + ")");
        }
        return new Line(number, d.text(), null);
    }
}
