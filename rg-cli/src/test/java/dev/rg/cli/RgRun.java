package dev.rg.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the {@code rg} command line in this JVM for a test. */
final class RgRun {
    private RgRun() {}

    /** Runs rg and returns what it wrote to stderr (the summary line or the error), stripped. */
    static String stderr(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            Main.run(args);
        } finally {
            System.setErr(old);
        }
        return err.toString(StandardCharsets.UTF_8).strip();
    }
}
