package dev.rg.core.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.rg.core.FuzzChecks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz targets for the safetensors header (JSON, dtypes, shapes, offsets against the data) and the shard index.
 * ./test replays the corpus in {@code src/test/resources/dev/rg/core/safetensors/SafetensorsFuzzTestInputs}; a
 * fuzzing run is {@code JAZZER_FUZZ=1 mvn -o verify -pl rg-core -am -Dtest=SafetensorsFuzzTest#header} (README).
 */
class SafetensorsFuzzTest {
    private static final Path DIR = modelDir();

    /** A model directory with one real shard, so index entries naming it get past the existence check. */
    private static Path modelDir() {
        try {
            Path d = Files.createTempDirectory("rg-fuzz-index");
            Files.write(d.resolve("model-00001-of-00002.safetensors"), new byte[16]);
            d.toFile().deleteOnExit();
            d.resolve("model-00001-of-00002.safetensors").toFile().deleteOnExit();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void header(byte[] data) {
        FuzzChecks.check(data.length, () -> {
            SafetensorsFile f = SafetensorsFile.parse(Path.of("fuzz.safetensors"), MemorySegment.ofArray(data));
            long total = 0;
            for (var t : f.tensors().values()) {
                total += t.data().byteSize(); // every slice lies inside the input
                if (t.data().byteSize() > 0) {
                    t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, t.data().byteSize() - 1);
                }
            }
            if (total > data.length) {
                throw new AssertionError("tensors claim " + total + " bytes of a " + data.length + "-byte file");
            }
        }, SafetensorsException.class);
    }

    @FuzzTest(maxDuration = "10m")
    void shardIndex(byte[] data) {
        FuzzChecks.check(data.length, () -> Checkpoint.indexShards(DIR, DIR.resolve("model.safetensors.index.json"), data),
                SafetensorsException.class);
    }
}
