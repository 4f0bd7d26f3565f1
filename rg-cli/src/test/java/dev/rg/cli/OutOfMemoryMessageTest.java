package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** An OutOfMemoryError (picocli lets Errors through) ends as one line with advice and exit code 2, no stack trace. */
class OutOfMemoryMessageTest {
    @CommandLine.Command(name = "hungry")
    static final class Hungry implements Callable<Integer> {
        @Override
        public Integer call() {
            throw new OutOfMemoryError("Java heap space");
        }
    }

    @Test
    void outOfMemoryIsOneLineWithAdvice() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(new CommandLine(new Hungry()));
        } finally {
            System.setErr(old);
        }
        String out = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code);
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("rg: error: out of memory (Java heap space)") && out.contains("-Xmx"), out);
        assertFalse(out.contains("\tat "), out);
    }
}
