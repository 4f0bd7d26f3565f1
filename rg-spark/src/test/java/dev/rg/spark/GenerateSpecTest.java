package dev.rg.spark;

import dev.rg.core.generate.RowSeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GenerateSpecTest {
    private final GenerateSpec spec = GenerateSpec.of("/models/m");

    @Test
    void optionsOverrideTheDefaults() {
        GenerateSpec s = spec.withOptions(Map.of("max_tokens", "12", "temperature", "0.7", "top_k", "5", "top_p", "0.9",
                "seed", "-3", "max_prompt_tokens", "100", "ignore_eos", "true", "json", "true"));
        assertEquals(new GenerateSpec("/models/m", "prompt", null, 12, 100, 16, 0.7f, 5, 0.9f, -3, false, "auto", 0, null, true, null), s);
        assertEquals(true, s.generationConfig().json(), "JSON mode reaches the generation settings");
        assertEquals(false, spec.generationConfig().json());
        assertEquals("Answer briefly.\n", spec.withOptions(Map.of("prompt_prefix", "Answer briefly.\n")).promptPrefix());
        assertEquals(null, spec.withPromptPrefix("x").withOptions(Map.of("prompt_prefix", "")).promptPrefix());
    }

    @Test
    void badValuesAreOneClearLine() {
        assertEquals("rg_generate: option max_tokens = 'lots' is not a number",
                assertThrows(IllegalArgumentException.class, () -> spec.withOptions(Map.of("max_tokens", "lots"))).getMessage());
        assertEquals("batch size must be in [1, 4096], got 0",
                assertThrows(IllegalArgumentException.class, () -> spec.withBatchSize(0)).getMessage());
        assertEquals("temperature must be 0 (greedy) or a positive number up to 100, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> spec.withSampling(-1, 0, 1, 0)).getMessage());
        assertEquals("prompt prefix must not be empty (null for none)",
                assertThrows(IllegalArgumentException.class, () -> spec.withPromptPrefix("")).getMessage());
        assertEquals("model directory must be given",
                assertThrows(IllegalArgumentException.class, () -> GenerateSpec.of(" ")).getMessage());
    }

    @Test
    void aMissingModelDirectoryNamesThePath() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelCache.resolve("/no/such/model"));
        assertEquals(true, e.getMessage().startsWith("rg-spark: model directory /no/such/model is not readable on this executor"), e.getMessage());
    }

    @Test
    void rowSeedsDependOnTheKeyAndTheJobSeedOnly() {
        Random random = new Random(42);
        Set<Long> seeds = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            long key = random.nextLong();
            assertEquals(RowSeeds.of(7, key), RowSeeds.of(7, Long.valueOf(key)));
            assertNotEquals(RowSeeds.of(7, key), RowSeeds.of(8, key));
            seeds.add(RowSeeds.of(7, key));
            seeds.add(RowSeeds.of(7, (long) i));
        }
        assertEquals(2000, seeds.size());
        // an int key and the same long key give one seed (a column read as int or bigint)
        assertEquals(RowSeeds.of(3, 12L), RowSeeds.of(3, 12));
        assertEquals(RowSeeds.of(3, "key"), RowSeeds.of(3, "key".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
}
