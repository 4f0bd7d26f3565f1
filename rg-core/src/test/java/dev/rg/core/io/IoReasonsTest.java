package dev.rg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file error's reason in words, not the path the JDK puts in the message. */
class IoReasonsTest {

    @Test
    void typesWithoutAReasonAreNamedByWhatTheyMean() {
        assertEquals("no such file or directory", IoReasons.of(new NoSuchFileException("/x")));
        assertEquals("permission denied", IoReasons.of(new AccessDeniedException("/x")));
        assertEquals("already exists (/y)", IoReasons.of(new java.nio.file.FileAlreadyExistsException("/x", "/y", null)));
        assertEquals("FileSystemLoopException", IoReasons.of(new java.nio.file.FileSystemLoopException("/x")));
    }

    @Test
    void theSystemsReasonWinsWhereItGaveOne() {
        assertEquals("Read-only file system", IoReasons.of(new FileSystemException("/x", null, "Read-only file system")));
        assertEquals("No space left on device", IoReasons.of(new IOException("No space left on device")));
        assertEquals("IOException", IoReasons.of(new IOException()));
    }

    @Test
    void whatTheFileSystemReallySays(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> Files.createDirectories(file.resolve("sub")));
        String r = IoReasons.of(e);
        assertEquals(false, r.contains(dir.toString()), "the reason, not the path: " + r);
    }
}
