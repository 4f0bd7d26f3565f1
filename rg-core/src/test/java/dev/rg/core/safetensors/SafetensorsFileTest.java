package dev.rg.core.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    /** A file made of a raw header string and {@code dataBytes} random data bytes. */
    private Path file(String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        byte[] data = new byte[dataBytes];
        new Random(7).nextBytes(data);
        b.put(data);
        Path p = tmp.resolve("model.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static String message(Path p) {
        try (Arena a = Arena.ofConfined()) {
            return assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p, a)).getMessage();
        }
    }

    @Test
    void writesAndReadsBack() {
        float[] values = new float[12];
        Random r = new Random(3);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) r.nextGaussian();
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(48);
            MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, 12);
            MemorySegment small = a.allocate(6);
            Path p = tmp.resolve("w.safetensors");
            SafetensorsWriter.write(p, List.of(new RawTensor("b.weight", DType.F32, Shape.of(3, 4), seg, ""),
                    new RawTensor("a.bias", DType.BF16, Shape.of(3), small, "")), Map.of("format", "pt"), n -> {});
            SafetensorsFile f = SafetensorsFile.open(p, a);
            assertEquals(List.of("a.bias", "b.weight"), List.copyOf(f.tensors().keySet()));
            assertEquals("pt", f.metadata().get("format"));
            RawTensor t = f.tensors().get("b.weight");
            assertEquals(Shape.of(3, 4), t.shape());
            assertArrayEquals(values, t.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED));
            assertEquals(0, f.headerBytes() % 8);
        }
    }

    @Test
    void truncatedFile() throws IOException {
        Path p = tmp.resolve("t.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        assertTrue(message(p).contains("truncated"), message(p));
    }

    @Test
    void emptyFile() throws IOException {
        Path p = tmp.resolve("e.safetensors");
        Files.write(p, new byte[0]);
        assertTrue(message(p).contains("truncated"));
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(0);
        Path p = tmp.resolve("h.safetensors");
        Files.write(p, b.array());
        assertTrue(message(p).contains("does not fit"), message(p));
        ByteBuffer neg = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).putLong(0);
        Files.write(p, neg.array());
        assertTrue(message(p).contains("does not fit"), message(p));
    }

    @Test
    void headerNotJson() throws IOException {
        assertTrue(message(file("{not json", 0)).contains("not valid JSON"));
    }

    @Test
    void outOfRangeOffsets() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        assertTrue(message(file(h, 8)).contains("outside the data area"), message(file(h, 8)));
        String reversed = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}";
        assertTrue(message(file(reversed, 8)).contains("outside the data area"));
    }

    @Test
    void overlappingOffsets() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        String m = message(file(h, 16));
        assertTrue(m.contains("overlap") && m.contains("'a'") && m.contains("'b'"), m);
    }

    @Test
    void unknownDtype() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F8_E4M3X\",\"shape\":[2],\"data_offsets\":[0,2]}}";
        String m = message(file(h, 2));
        assertTrue(m.contains("unknown dtype 'F8_E4M3X'") && m.contains("'a'"), m);
    }

    @Test
    void sizeNotMatchingShape() throws IOException {
        String h = "{\"a\":{\"dtype\":\"BF16\",\"shape\":[3,3],\"data_offsets\":[0,16]}}";
        String m = message(file(h, 16));
        assertTrue(m.contains("needs 18 bytes"), m);
    }

    @Test
    void badShape() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}";
        assertTrue(message(file(h, 4)).contains("non-negative"));
        String overflow = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}";
        assertTrue(message(file(overflow, 4)).contains("overflows"));
    }

    @Test
    void truncatedFixtureIsRejected() throws IOException {
        Path src = dev.rg.core.TestFiles.modelFixture("tiny-f32").resolve("model.safetensors");
        byte[] all = Files.readAllBytes(src);
        Path p = tmp.resolve("cut.safetensors");
        Files.write(p, java.util.Arrays.copyOf(all, all.length / 2));
        assertTrue(message(p).contains("outside the data area"), message(p));
    }
}
