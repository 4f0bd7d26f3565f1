package dev.rg.quant.bnb;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.Floats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.quant.TestData;
import dev.rg.core.io.PlainJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/** Where the shared read-only fixtures are, and helpers to read their goldens. */
final class Fixtures {
    private Fixtures() {}

    /** The shared directory: {@code -Drg.shared} (Maven passes it), else ../../shared from the module dir. */
    static Path shared() {
        Path p = Path.of(System.getProperty("rg.shared", "../../shared"));
        assertTrue(Files.isDirectory(p.resolve("fixtures/bnb")), "fixtures not found under " + p.toAbsolutePath()
                + " (set -Drg.shared)");
        return p;
    }

    static Path bnb(String fixture) {
        return shared().resolve("fixtures/bnb").resolve(fixture);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(Path file) {
        try {
            return (Map<String, Object>) PlainJson.parse(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** golden.json's {@code quantized_tensors}: weight name to its record. */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> goldenWeights(String fixture) {
        return (Map<String, Map<String, Object>>) json(bnb(fixture).resolve("golden.json")).get("quantized_tensors");
    }

    /** sha256 (hex) of the little-endian float32 bytes of the dequantised [out, in] matrix. */
    static String sha256F32(HostWeight w) {
        float[] d = TestData.dequantize(w);
        ByteBuffer b = ByteBuffer.allocate(d.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : d) {
            b.putFloat(v);
        }
        return sha256(b.array());
    }

    /** The same for bitsandbytes' float16 output: round to nearest even. */
    static String sha256F16(HostWeight w) {
        float[] d = TestData.dequantize(w);
        ByteBuffer b = ByteBuffer.allocate(d.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : d) {
            b.putShort(Floats.floatToF16(v));
        }
        return sha256(b.array());
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
