package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

/** The one line a user reads for an exception. */
class ErrorsTest {

    @Test
    void aBareWrapperShowsItsCause() {
        assertEquals("no such file: /m/config.json", Errors.describe(new UncheckedIOException(new NoSuchFileException("/m/config.json"))));
        assertEquals("disk on fire", Errors.describe(new RuntimeException(new IOException("disk on fire"))));
    }

    @Test
    void ourWrapperKeepsTheFileTheUserNamed() {
        // what AtomicFiles throws when the temporary beside the output cannot be made: the output's name comes first
        UncheckedIOException e = new UncheckedIOException("/proc/q: cannot write: no such file or directory (/proc/.q.tmp-1f)",
                new NoSuchFileException("/proc/.q.tmp-1f"));
        assertEquals("/proc/q: cannot write: no such file or directory (/proc/.q.tmp-1f)", Errors.describe(e));
    }

    @Test
    void aWrapperWithoutTheReasonGetsItAppended() {
        UncheckedIOException e = new UncheckedIOException("cannot read /f/golden.json", new IOException("Input/output error"));
        assertEquals("cannot read /f/golden.json: Input/output error", Errors.describe(e));
        UncheckedIOException missing = new UncheckedIOException("cannot read /f/golden.json", new NoSuchFileException("/f/golden.json"));
        assertEquals("cannot read /f/golden.json", Errors.describe(missing), "the reason is the file name, already in the message");
    }

    @Test
    void multiLineMessagesBecomeOneLine() {
        assertEquals(1, Errors.describe(new IllegalArgumentException("first\nsecond")).lines().count());
    }
}
