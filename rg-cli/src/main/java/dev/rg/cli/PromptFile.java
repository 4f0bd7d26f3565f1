package dev.rg.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code --prompt-file}: a prompt too long or too awkward to quote on a command line (a document to continue or
 * summarise), read as strict UTF-8 from a file, or from standard input for {@code -}. A pipe works too
 * ({@code -f <(cmd)}), so only a directory is refused up front; the read is bounded, so a device that never ends
 * gives an error, not an exhausted heap.
 */
final class PromptFile {
    /** The largest prompt file read: 16 MiB, about 4M tokens, far beyond what anyone prefills from a command line. */
    static final int MAX_BYTES = 16 << 20;

    private PromptFile() {}

    /**
     * The file's text, without one final line break (which editors and {@code echo} add and a typed prompt does not
     * have); {@code option} names the option in errors.
     */
    static String read(Path file, InputStream stdin, String option) {
        String text = readExactly(file, stdin, option);
        if (text.endsWith("\r\n")) {
            return text.substring(0, text.length() - 2);
        }
        return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
    }

    /** The file's text as it is, line breaks included (a prompt prefix, where a final line break matters). */
    static String readExactly(Path file, InputStream stdin, String option) {
        String name = file.toString();
        byte[] bytes;
        if (name.equals("-")) {
            bytes = readBounded(stdin, option + " - (standard input)");
        } else {
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException(option + ": " + file + " is a directory, not a file");
            }
            try (InputStream in = Files.newInputStream(file)) {
                bytes = readBounded(in, option + " " + file);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException(option + ": no such file: " + file);
            } catch (IOException e) {
                throw new UncheckedIOException(option + ": cannot read " + file + ": " + dev.rg.core.io.IoReasons.of(e), e);
            }
        }
        return decode(bytes, option + " " + name);
    }

    private static byte[] readBounded(InputStream in, String what) {
        try {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw new IllegalArgumentException(what + ": more than " + (MAX_BYTES >> 20) + " MiB; a prompt file holds at most that");
            }
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": cannot read: " + dev.rg.core.io.IoReasons.of(e), e);
        }
    }

    /** Strict UTF-8 (a file in another encoding would otherwise become silent U+FFFDs in the prompt). */
    private static String decode(byte[] bytes, String what) {
        dev.rg.core.io.StrictUtf8.Decoded d = dev.rg.core.io.StrictUtf8.decode(bytes, bytes.length);
        if (d.text() == null) {
            throw new IllegalArgumentException(what + ": not UTF-8 (invalid byte at offset " + d.badOffset()
                    + "); convert it first, e.g. iconv -f LATIN1 -t UTF-8");
        }
        return d.text();
    }
}
