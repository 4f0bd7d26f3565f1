package dev.rg.quant.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {
    @Test
    void readsAQuantStateBlobAsBitsandbytesWritesIt() {
        String blob = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [64, 64], "
                + "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": 0.3258705139160156}";
        Map<?, ?> m = (Map<?, ?>) Json.parse(blob.getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("quant_type", "blocksize", "dtype", "shape", "nested_blocksize", "nested_dtype",
                "nested_offset"), List.copyOf(m.keySet()), "document order is kept");
        assertEquals(64L, m.get("blocksize"));
        assertEquals(List.of(64L, 64L), m.get("shape"));
        assertEquals(0.3258705139160156, m.get("nested_offset"));
        assertEquals(0.3258705139160156, (double) (float) (double) (Double) m.get("nested_offset"),
                "a float32 printed by Python round-trips exactly");
    }

    @Test
    void valuesOfEveryKind() {
        Object v = Json.parse(" {\"a\":[true,false,null,-0,1.5e3,-2E-2,\"x\\u00e9\\n\\\"\\/\"],\"b\":{},\"c\":[]} ");
        Map<?, ?> m = (Map<?, ?>) v;
        List<?> a = (List<?>) m.get("a");
        assertEquals(Boolean.TRUE, a.get(0));
        assertEquals(Boolean.FALSE, a.get(1));
        assertNull(a.get(2));
        assertEquals(0L, a.get(3));
        assertEquals(1500.0, a.get(4));
        assertEquals(-0.02, a.get(5));
        assertEquals("x\u00e9\n\"/", a.get(6));
        assertEquals(Map.of(), m.get("b"));
        assertEquals(List.of(), m.get("c"));
        assertEquals(9223372036854775807L, Json.parse("9223372036854775807"));
        assertEquals(9.223372036854775808E18, Json.parse("9223372036854775808"), "beyond long: a double");
        assertEquals("\uD83D\uDE00", Json.parse("\"\\ud83d\\ude00\""), "surrogate pair escapes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "{", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{a:1}", "'x'", "01", "-",
        "1.", ".5", "1e", "+1", "NaN", "Infinity", "tru", "nul", "\"abc", "\"a\\x\"", "\"\\u12\"", "\"a\tb\"",
        "{\"a\":1,\"a\":2}", "1e400", "[1] x", "/*c*/1", "{\"a\":1}}", "[", "\uFEFF1"})
    void refusesInvalidDocuments(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
        assertTrue(e.getMessage().startsWith("invalid JSON at "), e.getMessage());
    }

    @Test
    void messagesSayWhereAndWhat() {
        assertEquals("invalid JSON at offset 7: duplicate key \"a\"",
                assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1,\"a\":2}")).getMessage());
        assertEquals("invalid JSON at end of input: unterminated string",
                assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"quant_type\": \"nf")).getMessage());
    }

    @Test
    void refusesMalformedUtf8AndDeepNesting() {
        byte[] bad = {'"', (byte) 0xC3, '"'};
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Json.parse(bad)).getMessage()
                .contains("not valid UTF-8"));
        char[] deep = new char[300];
        Arrays.fill(deep, '[');
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Json.parse(new String(deep))).getMessage()
                .contains("nesting deeper than 256"));
    }
}
