package dev.rg.core.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.rg.core.FuzzChecks;

/** Fuzz target for config.json (strict UTF-8 and JSON, every field's type and range). Corpus: {@code ConfigFuzzTestInputs}. */
class ConfigFuzzTest {
    @FuzzTest(maxDuration = "10m")
    void config(byte[] data) {
        FuzzChecks.check(data.length, () -> ConfigReader.parse(data, "fuzz/config.json"), ConfigException.class);
    }
}
