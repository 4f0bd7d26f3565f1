package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** rg forward and rg quantize write whole outputs or nothing, and quantize is byte-reproducible. */
class OutputFilesTest {
    private static final Path SHARED = Path.of(System.getProperty("rg.shared", "../../shared")).toAbsolutePath().normalize();
    private static final String TINY = SHARED.resolve("fixtures/model/tiny-f32").toString();

    private static long entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void failedForwardLeavesAnExistingOutputUntouched(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("logits.json");
        Files.writeString(out, "precious");
        assertEquals(2, Main.run("forward", "--model", TINY, "--backend", "reference", "--ids", "2,99999", "--out", out.toString()));
        assertEquals("precious", Files.readString(out));
        assertEquals(1, entries(tmp));
        assertEquals(0, Main.run("forward", "--model", TINY, "--backend", "reference", "--ids", "2,17", "--out", out.toString()));
        assertEquals('{', Files.readString(out).charAt(0));
        assertEquals(1, entries(tmp));
    }

    @Test
    void quantizeIsReproducibleAndAFailedRunLeavesNothing(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        assertEquals(0, Main.run("quantize", "--model", TINY, "--format", "int8", "--out", a.toString()));
        assertEquals(0, Main.run("quantize", "--model", TINY, "--format", "int8", "--out", b.toString()));
        for (String f : new String[] {"model.safetensors", "config.json"}) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        // a source without weights fails after the checks on --out: nothing may be left behind
        Path broken = tmp.resolve("broken");
        Files.createDirectory(broken);
        Files.copy(Path.of(TINY, "config.json"), broken.resolve("config.json"));
        Path c = tmp.resolve("c");
        assertEquals(2, Main.run("quantize", "--model", broken.toString(), "--format", "int8", "--out", c.toString()));
        assertFalse(Files.exists(c));
        assertEquals(3, entries(tmp));
    }
}
