package dev.rg.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Every numeric field of config.json is range-checked: no value accepted can overflow float32 or allocate absurdly. */
class ConfigRangesTest {
    private static String error(String field, String value) {
        return assertThrows(ConfigException.class,
                () -> ConfigReader.parse("{\"" + field + "\": " + value + "}", "c.json")).getMessage();
    }

    @Test
    void floatsOutOfRange() {
        assertEquals("c.json: field 'logits_soft_cap' must be a finite float32 number, got 1.0E39", error("logits_soft_cap", "1e39"));
        assertEquals("c.json: logits_soft_cap must be in [0.01, 1000000.0], got 0.0", error("logits_soft_cap", "0"));
        assertEquals("c.json: rms_norm_eps must be in [1.0E-12, 1.0], got 0.0", error("rms_norm_eps", "0"));
        assertEquals("c.json: rms_norm_eps must be in [1.0E-12, 1.0], got -1.0E-6", error("rms_norm_eps", "-1e-6"));
        assertEquals("c.json: rms_norm_eps must be in [1.0E-12, 1.0], got 1.0E30", error("rms_norm_eps", "1e30"));
        assertEquals("c.json: rope_theta must be in [1.0, 1.0E12], got 0.0", error("rope_theta", "0"));
        assertEquals("c.json: rope_theta must be in [1.0, 1.0E12], got -10000.0", error("rope_theta", "-1e4"));
    }

    @Test
    void integersOutOfRange() {
        assertEquals("c.json: conv1d_width must be <= 1024, got 100000", error("conv1d_width", "100000"));
        assertEquals("c.json: bos_token_id must be a token id in [0, vocab_size 256000), got 300000", error("bos_token_id", "300000"));
        assertEquals("c.json: pad_token_id must be a token id in [0, vocab_size 256000), got -1", error("pad_token_id", "-1"));
        assertEquals("c.json: vocab_size must be <= 4194304, got 10000000",
                error("vocab_size", "10000000, \"hidden_size\": 64, \"num_attention_heads\": 1, \"lru_width\": 64"));
    }

    @Test
    void realisticValuesStillLoad() {
        ModelConfig c = ConfigReader.parse("{\"logits_soft_cap\": 50.0, \"rms_norm_eps\": 1e-5, \"rope_theta\": 500000}", "c.json");
        assertEquals(50f, c.logitsSoftCap());
        assertEquals(500000f, c.ropeTheta());
    }
}
