package dev.rg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import dev.rg.core.model.AdapterTensors;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** JSON as the plain values format plugins get: types, order, and one-line errors naming the tensor and file. */
class PlainJsonTest {

    @Test
    void valuesArePlainJavaTypes() {
        SplittableRandom r = new SplittableRandom(17);
        long big = r.nextLong(1L << 40, Long.MAX_VALUE);
        double x = r.nextDouble() * 1000 - 500;
        String text = "{\"z\": " + big + ", \"a\": [true, null, " + x + ", \"s\\u00e9\"], \"m\": {\"k\": -7},"
                + " \"huge\": 98765432109876543210, \"f\": 64.0}";
        Map<?, ?> m = (Map<?, ?>) PlainJson.parse(text.getBytes(StandardCharsets.UTF_8), "test");
        assertEquals(List.of("z", "a", "m", "huge", "f"), new ArrayList<>(m.keySet()), "file order");
        assertEquals(big, m.get("z"));
        assertEquals(Arrays.asList(true, null, x, "s\u00e9"), m.get("a"));
        assertEquals(Map.of("k", -7L), m.get("m"));
        assertEquals(9.8765432109876543210e19, m.get("huge"), "beyond long: a double");
        assertEquals(64.0, m.get("f"), "a float stays a double even when integral");
        assertThrows(UnsupportedOperationException.class, () -> ((Map<String, Object>) m).put("x", 1));
    }

    @Test
    void errorsNameTheFileAndTensor() {
        AdapterTensors tensors = AdapterTensors.of(name -> null);
        byte[] bad = "{\"quant_type\": \"nf4\", \"quant_type\": \"fp4\"}".getBytes(StandardCharsets.UTF_8);
        RawTensor t = new RawTensor("w.quant_state", DType.U8, Shape.of(bad.length), MemorySegment.ofArray(bad),
                "/models/x/model.safetensors");
        String m = assertThrows(IllegalArgumentException.class, () -> tensors.json(t)).getMessage();
        assertTrue(m.startsWith("/models/x/model.safetensors: tensor 'w.quant_state': ") && m.contains("duplicate key")
                && !m.contains("\n"), m);
        byte[] truncated = "{\"a\": [1, 2".getBytes(StandardCharsets.UTF_8);
        RawTensor u = new RawTensor("q", DType.U8, Shape.of(truncated.length), MemorySegment.ofArray(truncated), "");
        m = assertThrows(IllegalArgumentException.class, () -> tensors.json(u)).getMessage();
        assertTrue(m.startsWith("tensor 'q': ") && m.contains("unexpected end of input"), m);
    }
}
