package dev.rg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Output appears whole or not at all; a failure leaves an existing file as it was and no temporary behind. */
class AtomicFilesTest {
    @TempDir
    Path tmp;

    private long entries() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.count();
        }
    }

    @Test
    void failureKeepsTheOldFileAndLeavesNoTemporary() throws IOException {
        Path f = tmp.resolve("out.json");
        Files.writeString(f, "precious");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(f, p -> {
            Files.writeString(p, "{\"half\": [1, 2,");
            throw new IllegalStateException("found a problem half-way");
        }));
        assertEquals("precious", Files.readString(f));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(f, p -> {
            Files.writeString(p, "partial");
            throw new IOException("No space left on device");
        }));
        assertTrue(e.getMessage().startsWith(f + ": cannot write") && e.getMessage().contains("No space left"), e.getMessage());
        assertEquals("precious", Files.readString(f));
        assertEquals(1, entries());
        AtomicFiles.writeString(f, "new");
        assertEquals("new", Files.readString(f));
        assertEquals(1, entries());
    }

    @Test
    void directoryAppearsOnlyWhenComplete() throws IOException {
        Path d = tmp.resolve("q");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.writeDirectory(d, p -> {
            Files.writeString(p.resolve("model.safetensors"), "half");
            throw new IllegalStateException("tensor missing");
        }));
        assertFalse(Files.exists(d));
        assertEquals(0, entries());
        Files.createDirectory(d); // an empty directory may be the target
        AtomicFiles.writeDirectory(d, p -> Files.writeString(p.resolve("a"), "x"));
        assertEquals("x", Files.readString(d.resolve("a")));
        assertEquals(1, entries());
    }
}
