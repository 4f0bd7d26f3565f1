package dev.rg.core.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same tensors and metadata give the same bytes, whatever order the metadata map iterates in. */
class SafetensorsWriterOrderTest {
    @Test
    void metadataKeysAreSorted(@TempDir Path tmp) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(8);
            data.set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 1.5f);
            List<RawTensor> ts = List.of(new RawTensor("w", DType.F32, Shape.of(2), data, ""));
            Map<String, String> forward = new LinkedHashMap<>();
            forward.put("format", "pt");
            forward.put("rg.format", "int8");
            Map<String, String> backward = new LinkedHashMap<>();
            backward.put("rg.format", "int8");
            backward.put("format", "pt");
            SafetensorsWriter.write(tmp.resolve("a.safetensors"), ts, forward, b -> {});
            SafetensorsWriter.write(tmp.resolve("b.safetensors"), ts, backward, b -> {});
            byte[] a = Files.readAllBytes(tmp.resolve("a.safetensors"));
            assertArrayEquals(a, Files.readAllBytes(tmp.resolve("b.safetensors")));
            String header = new String(a, 8, a.length - 16, StandardCharsets.UTF_8);
            assertTrue(header.indexOf("\"format\"") < header.indexOf("\"rg.format\""), header);
        }
    }
}
