package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rg generate --prompt-file}: what is read, what is dropped, and one clear line for every file it cannot use. */
class PromptFileTest {
    private static final Path AUSTEN = Path.of(System.getProperty("rg.shared", "../../shared")).resolve("models/austen-6m")
            .toAbsolutePath().normalize();
    private static final InputStream NO_STDIN = new ByteArrayInputStream(new byte[0]);

    @Test
    void theTextIsReadExactlyExceptOneFinalLineBreak(@TempDir Path dir) throws Exception {
        String text = "Chapter 1\n\n  Emma Woodhouse, handsome — clever, and rich.\t";
        for (String ending : new String[] {"", "\n", "\r\n"}) {
            Path f = Files.writeString(dir.resolve("p.txt"), text + ending, StandardCharsets.UTF_8);
            assertEquals(text, PromptFile.read(f, NO_STDIN, "--prompt-file"), "ending " + ending.replace("\n", "\\n").replace("\r", "\\r"));
        }
        Path two = Files.writeString(dir.resolve("two.txt"), text + "\n\n", StandardCharsets.UTF_8);
        assertEquals(text + "\n", PromptFile.read(two, NO_STDIN, "--prompt-file"), "only one line break is dropped");
        InputStream stdin = new ByteArrayInputStream((text + "\n").getBytes(StandardCharsets.UTF_8));
        assertEquals(text, PromptFile.read(Path.of("-"), stdin, "--prompt-file"));
    }

    @Test
    void filesItCannotUseAreOneLineNamingThem(@TempDir Path dir) throws Exception {
        Path latin1 = Files.write(dir.resolve("latin1.txt"), "Caf\u00e9 au lait".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals("--prompt-file " + latin1 + ": not UTF-8 (invalid byte at offset 3); convert it first, e.g. iconv -f LATIN1"
                + " -t UTF-8", message(latin1, NO_STDIN));
        assertEquals("--prompt-file: " + dir + " is a directory, not a file", message(dir, NO_STDIN));
        assertEquals("--prompt-file: no such file: " + dir.resolve("missing.txt"), message(dir.resolve("missing.txt"), NO_STDIN));
        InputStream endless = new InputStream() { // a device that never ends: refused after the bound, not read forever
            @Override
            public int read() {
                return 'a';
            }

            @Override
            public int read(byte[] b, int off, int len) {
                java.util.Arrays.fill(b, off, off + len, (byte) 'a');
                return len;
            }
        };
        assertEquals("--prompt-file - (standard input): more than 16 MiB; a prompt file holds at most that",
                message(Path.of("-"), endless));
    }

    @Test
    void generateReadsTheFileAsIfItsTextWereTyped(@TempDir Path dir) throws Exception {
        String text = "It is a truth universally acknowledged";
        Path f = Files.writeString(dir.resolve("p.txt"), text + "\n", StandardCharsets.UTF_8);
        String typed = RgRun.stderr("generate", "--model", AUSTEN.toString(), "--backend", "reference", "-n", "2", "--no-echo", "--prompt", text);
        String read = RgRun.stderr("generate", "--model", AUSTEN.toString(), "--backend", "reference", "-n", "2", "--no-echo", "-f", f.toString());
        String tokens = typed.substring(typed.indexOf("[prompt "), typed.indexOf(" tokens") + 7);
        assertTrue(read.contains(tokens), "the same prompt tokens (" + tokens + ") from the file: " + read);
        assertTrue(RgRun.stderr("generate", "--prompt", text, "--prompt-file", f.toString())
                .startsWith("rg: error: --prompt=TEXT, --prompt-file=FILE are mutually exclusive"));
    }

    private static String message(Path file, InputStream stdin) {
        return assertThrows(IllegalArgumentException.class, () -> PromptFile.read(file, stdin, "--prompt-file")).getMessage();
    }
}
