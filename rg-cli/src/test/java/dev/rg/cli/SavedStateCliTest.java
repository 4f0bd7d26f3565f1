package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rg generate --prompt-cache FILE} and {@code rg chat --session FILE} end to end, in process: what is reused is
 * reported on stderr, files that are not theirs are refused and left as they were. (That a restored state continues
 * exactly is {@code SavedStateTest}'s job in rg-core.)
 */
class SavedStateCliTest {
    private static final Path SHARED = Path.of(System.getProperty("rg.shared", "../../shared")).toAbsolutePath().normalize();
    private static final String AUSTEN = SHARED.resolve("models/austen-6m").toString();
    private static final String PROMPT = "It is a truth universally acknowledged, that a single man in possession of a good fortune,"
            + " must be in want of a wife.";

    @TempDir
    Path dir;

    /** Runs rg with {@code stdin}, returning its exit code; stderr goes into {@code err}. */
    private static int rg(ByteArrayOutputStream err, String stdin, String... args) {
        PrintStream oldErr = System.err;
        InputStream oldIn = System.in;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            return Main.run(args);
        } finally {
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
    }

    private int generate(ByteArrayOutputStream err, String prompt, Path cache) {
        err.reset();
        return rg(err, "", "generate", "--model", AUSTEN, "--backend", "reference", "--prompt", prompt, "-n", "4", "--no-echo",
                "--prompt-cache", cache.toString());
    }

    @Test
    void aPromptCacheServesTheSamePromptAndItsExtensions() throws Exception {
        Path cache = dir.resolve("prompt.rgstate");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, generate(err, PROMPT, cache), err.toString());
        assertTrue(err.toString().matches("(?s).*\\[prompt \\d+ tokens, [0-9.]+ tok/s \\|.*"), err.toString());
        assertTrue(Files.isRegularFile(cache));

        assertEquals(0, generate(err, PROMPT + " However little known", cache), err.toString());
        assertTrue(err.toString().matches("(?s).*\\[prompt \\d+ tokens \\(\\d+ from the prompt cache\\), [0-9.]+ tok/s \\|.*"),
                err.toString());
        assertEquals(0, generate(err, PROMPT + " However little known", cache), err.toString());
        assertTrue(err.toString().matches("(?s).*\\[prompt \\d+ tokens, all from the prompt cache \\|.*"), err.toString());

        // another prompt: processed whole, and it replaces the cache
        assertEquals(0, generate(err, "Emma Woodhouse, handsome, clever, and rich", cache), err.toString());
        assertTrue(err.toString().matches("(?s).*\\[prompt \\d+ tokens, [0-9.]+ tok/s \\|.*"), err.toString());
        assertEquals(0, generate(err, "Emma Woodhouse, handsome, clever, and rich", cache), err.toString());
        assertTrue(err.toString().contains("all from the prompt cache"), err.toString());
    }

    @Test
    void filesThatAreNotPromptCachesAreLeftAlone() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path notes = dir.resolve("notes.txt");
        Files.writeString(notes, "my notes");
        assertEquals(2, generate(err, PROMPT, notes));
        assertTrue(err.toString().startsWith("rg: error: " + notes + ": not an rg state file, so not a prompt cache; it is left as it is"),
                err.toString());
        assertEquals("my notes", Files.readString(notes));

        Path chat = dir.resolve("chat.rgstate");
        err.reset();
        assertEquals(0, rg(err, "Tell me about Emma.\n", "chat", "--model", AUSTEN, "--backend", "reference", "-n", "4",
                "--session", chat.toString()), err.toString());
        byte[] saved = Files.readAllBytes(chat);
        assertEquals(2, generate(err, PROMPT, chat));
        assertTrue(err.toString().startsWith("rg: error: " + chat + ": a saved chat (rg chat --session), not a prompt cache"),
                err.toString());
        assertArrayEquals(saved, Files.readAllBytes(chat));

        err.reset();
        assertEquals(2, generate(err, PROMPT, dir.resolve("no/such/dir/p.rgstate")));
        assertTrue(err.toString().startsWith("rg: error: --prompt-cache: directory " + dir.resolve("no/such/dir")
                + " does not exist"), err.toString());

        err.reset();
        Path taken = Files.createDirectory(dir.resolve("taken.rgstate"));
        assertEquals(2, generate(err, PROMPT, taken));
        assertEquals("rg: error: --prompt-cache: " + taken + ": not a regular file (a directory)", err.toString().strip());
        assertTrue(Files.isDirectory(taken));
        err.reset();
        assertEquals(2, rg(err, "Tell me about Emma.\n", "chat", "--model", AUSTEN, "--backend", "reference", "--session",
                taken.toString()));
        assertEquals("rg: error: --session: " + taken + ": not a regular file (a directory)", err.toString().strip());
    }

    @Test
    void aChatSessionIsResumedTurnAfterTurn() throws Exception {
        Path session = dir.resolve("chat.rgstate");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] args = {"chat", "--model", AUSTEN, "--backend", "reference", "-n", "6", "--session", session.toString()};
        assertEquals(0, rg(err, "Tell me about Emma.\n", args), err.toString());
        assertTrue(!err.toString().contains("resumed"), err.toString());
        err.reset();
        assertEquals(0, rg(err, "And her father?\n/exit\n", args), err.toString());
        assertTrue(err.toString().contains("resumed 1 turn ("), err.toString());
        err.reset();
        assertEquals(0, rg(err, "", args), err.toString());
        assertTrue(err.toString().contains("resumed 2 turns ("), err.toString());

        // a prompt cache is not a chat
        Path cache = dir.resolve("prompt.rgstate");
        assertEquals(0, generate(err, PROMPT, cache), err.toString());
        err.reset();
        assertEquals(2, rg(err, "Hello\n", "chat", "--model", AUSTEN, "--backend", "reference", "--session", cache.toString()));
        assertTrue(err.toString().startsWith("rg: error: " + cache + ": a saved state but not a chat"), err.toString());
    }
}
