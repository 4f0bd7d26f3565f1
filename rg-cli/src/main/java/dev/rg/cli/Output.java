package dev.rg.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** UTF-8 standard output that reports when the reader has gone away (closed pipe), so generation stops cleanly. */
final class Output {
    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);

    private Output() {}

    static PrintStream out() {
        return OUT;
    }

    /** Writes and flushes; false once the output is closed. */
    static boolean write(String text) {
        OUT.print(text);
        OUT.flush();
        return !OUT.checkError();
    }
}
