package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.RawTensor;
import dev.rg.core.safetensors.Checkpoint;
import dev.rg.core.safetensors.SafetensorsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint with an infinity in one weight: rg info --verify names it, rg forward fails naming the op and writes nothing. */
class NonFiniteCliTest {
    private static final Path SHARED = Path.of(System.getProperty("rg.shared", "../../shared")).toAbsolutePath().normalize();
    private static final String POISONED = "model.layers.1.mlp_block.down_proj.weight";

    private static Path poisoned(Path tmp, Arena arena) throws IOException {
        Path src = SHARED.resolve("fixtures/model/tiny-f32");
        Path dir = tmp.resolve("m");
        Files.createDirectory(dir);
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        try (Checkpoint ck = Checkpoint.open(src)) {
            List<RawTensor> out = new ArrayList<>();
            for (RawTensor t : ck.tensors().values()) {
                if (t.name().equals(POISONED)) {
                    MemorySegment copy = arena.allocate(t.data().byteSize());
                    copy.copyFrom(t.data());
                    copy.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * 5, Float.POSITIVE_INFINITY);
                    t = new RawTensor(t.name(), t.dtype(), t.shape(), copy, t.file());
                }
                out.add(t);
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"), b -> {});
        }
        return dir;
    }

    private static String run(int expected, String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(expected, Main.run(args), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void verifyAndForwardReportTheBrokenWeight(@TempDir Path tmp) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Path dir = poisoned(tmp, arena);
            String verify = run(2, "info", "--verify", "-m", dir.toString());
            assertTrue(verify.contains("'" + POISONED + "'") && verify.contains("element 5"), verify);
            run(0, "info", "--verify", "-m", SHARED.resolve("fixtures/model/tiny-f32").toString());
            Path out = tmp.resolve("f.json");
            String forward = run(2, "forward", "-m", dir.toString(), "--backend", "reference", "--ids", "2,17,300", "--out", out.toString());
            assertTrue(forward.contains("layer 1 (recurrent), op mlp down_proj"), forward);
            assertEquals(1, forward.lines().count(), forward);
            assertFalse(Files.exists(out));
        }
    }
}
