package dev.rg.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.TestFiles;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigReaderTest {
    @Test
    void readsTheFixtureWithHfQuirks() {
        ModelConfig c = ConfigReader.read(TestFiles.modelFixture("odd-dims"));
        assertEquals(48, c.hiddenSize());
        assertEquals(96, c.lruWidth());
        assertEquals(80, c.mlpWidth(), "MLP width is intermediate_size / 2");
        assertEquals(6.9375f, c.embeddingScale(), "bf16(sqrt(48)), not 6.9282");
        assertEquals(BlockType.ATTENTION, c.blockType(0));
        assertEquals(BlockType.RECURRENT, c.blockType(3));
    }

    @Test
    void defaultsFollowRecurrentGemmaConfig() {
        ModelConfig c = ConfigReader.parse("{\"model_type\":\"recurrent_gemma\"}", "test");
        assertEquals(2560, c.lruWidth());
        assertEquals(10, c.kvHeads(), "num_key_value_heads defaults to num_attention_heads");
        assertEquals(256, c.headDim());
        assertEquals(50.5f, c.embeddingScale(), "bf16(sqrt(2560)) = 50.5");
        assertEquals(26, c.layers());
    }

    @Test
    void presetsHaveTheRealShapes() {
        ModelConfig c = ModelConfig.preset2b();
        assertEquals(7680, c.mlpWidth());
        assertEquals(18, c.count(BlockType.RECURRENT));
        assertEquals(8, c.count(BlockType.ATTENTION));
        // 2.03 B non-embedding + 0.655 B embedding (baselines.md)
        assertEquals(2.68e9, c.parameterCount(), 0.01e9);
    }

    @Test
    void wrongTypeNamesTheField() {
        String m = assertThrows(ConfigException.class,
                () -> ConfigReader.parse("{\"hidden_size\": \"wide\"}", "x/config.json")).getMessage();
        assertTrue(m.contains("x/config.json") && m.contains("'hidden_size'") && m.contains("integer"), m);
        m = assertThrows(ConfigException.class, () -> ConfigReader.parse("{\"block_types\": [\"mamba\"]}", "c")).getMessage();
        assertTrue(m.contains("block_types"), m);
        m = assertThrows(ConfigException.class, () -> ConfigReader.parse("{\"attention_bias\": 1}", "c")).getMessage();
        assertTrue(m.contains("attention_bias"), m);
    }

    @Test
    void inconsistentShapesAreRejected() {
        String m = assertThrows(ConfigException.class,
                () -> ConfigReader.parse("{\"hidden_size\": 64, \"num_attention_heads\": 4, \"head_dim\": 8}", "c")).getMessage();
        assertTrue(m.contains("head_dim"), m);
        m = assertThrows(ConfigException.class, () -> ConfigReader.parse("{\"vocab_size\": 0}", "c")).getMessage();
        assertTrue(m.contains("vocab_size"), m);
        m = assertThrows(ConfigException.class, () -> ConfigReader.parse("{\"model_type\": \"llama\"}", "c")).getMessage();
        assertTrue(m.contains("recurrent_gemma"), m);
        m = assertThrows(ConfigException.class, () -> ConfigReader.parse("[1,2]", "c")).getMessage();
        assertTrue(m.contains("JSON object"), m);
        m = assertThrows(ConfigException.class,
                () -> ConfigReader.parse("{\"vocab_size\": 2000000000, \"hidden_size\": 65536, \"num_attention_heads\": 256}", "c"))
                .getMessage();
        assertTrue(m.contains("implausibly large"), m);
    }

    @Test
    void missingConfigNamesTheDirectory(@TempDir Path dir) {
        String m = assertThrows(ConfigException.class, () -> ConfigReader.read(dir)).getMessage();
        assertTrue(m.contains("no config.json") && m.contains(dir.toString()), m);
    }
}
