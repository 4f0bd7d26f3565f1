package dev.rg.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.config.ConfigException;
import dev.rg.core.config.ConfigReader;
import dev.rg.core.safetensors.SafetensorsException;
import dev.rg.core.safetensors.SafetensorsFile;
import dev.rg.core.tokenizer.TokenizerException;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every JSON rg reads is strict: duplicate keys and trailing content are refused, and errors are one line with
 * the file, line and column (no Jackson class or feature names).
 */
class StrictJsonTest {
    @TempDir
    Path tmp;

    private static void assertClean(String m) {
        assertEquals(1, m.lines().count(), m);
        assertFalse(m.contains("jackson") || m.contains("FAIL_ON") || m.contains("Source:") || m.contains("JsonNode"), m);
    }

    @Test
    void configDuplicatesAndTrailingGarbage() {
        String m = assertThrows(ConfigException.class,
                () -> ConfigReader.parse("{\"hidden_size\": 256,\n \"hidden_size\": 512}", "d/config.json")).getMessage();
        assertEquals("d/config.json: line 2, column 15: not valid JSON: duplicate key 'hidden_size'", m);
        m = assertThrows(ConfigException.class, () -> ConfigReader.parse("{\"model_type\": \"recurrent_gemma\"} {}", "c.json")).getMessage();
        assertTrue(m.startsWith("c.json: line 1, column ") && m.endsWith("unexpected content after the JSON value"), m);
        assertClean(m);
        m = assertThrows(ConfigException.class, () -> ConfigReader.parse("{\"a\": [1, 2", "c.json")).getMessage();
        assertTrue(m.contains("line 1") && m.contains("unexpected end of input"), m);
        assertClean(m);
        m = assertThrows(ConfigException.class, () -> ConfigReader.parse("{\"a\": tru}", "c.json")).getMessage();
        assertTrue(m.startsWith("c.json: line 1, column "), m);
        assertClean(m);
    }

    @Test
    void configThatIsNotUtf8SaysSo() throws IOException {
        Files.write(tmp.resolve("config.json"), new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xE9, 't', 'e', '"', '}'});
        String m = assertThrows(ConfigException.class, () -> ConfigReader.read(tmp)).getMessage();
        assertTrue(m.startsWith(tmp.resolve("config.json") + ": not UTF-8") && m.contains("byte 6"), m);
    }

    private static MemorySegment safetensors(String header) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        return MemorySegment.ofArray(b.array());
    }

    @Test
    void safetensorsHeaderDuplicatesAndTrailingGarbage() {
        String t = "\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}";
        SafetensorsFile.parse(Path.of("ok.safetensors"), safetensors("{" + t + "}  "));
        String m = assertThrows(SafetensorsException.class,
                () -> SafetensorsFile.parse(Path.of("m.safetensors"), safetensors("{" + t + ", " + t + "}"))).getMessage();
        assertTrue(m.startsWith("m.safetensors (header): line 1, column ") && m.endsWith("duplicate key 'w'"), m);
        m = assertThrows(SafetensorsException.class,
                () -> SafetensorsFile.parse(Path.of("m.safetensors"), safetensors("{" + t + "}]"))).getMessage();
        assertTrue(m.contains("line 1, column"), m);
        assertClean(m);
    }

    @Test
    void shardIndexDuplicates() throws IOException {
        Files.writeString(tmp.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"a\": \"x.safetensors\"}, \"weight_map\": {}}");
        String m = assertThrows(SafetensorsException.class, () -> dev.rg.core.safetensors.Checkpoint.shards(tmp)).getMessage();
        assertTrue(m.endsWith("duplicate key 'weight_map'") && m.contains("model.safetensors.index.json: line 1"), m);
    }

    @Test
    void tokenizerJsonTrailingGarbage() throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {}}\n}");
        String m = assertThrows(TokenizerException.class, () -> GemmaTokenizer.fromTokenizerJson(tmp.resolve("tokenizer.json"))).getMessage();
        assertTrue(m.contains("line 2, column"), m);
        assertClean(m);
    }
}
