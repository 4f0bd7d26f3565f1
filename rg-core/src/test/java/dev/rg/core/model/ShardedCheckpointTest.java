package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.RawTensor;
import dev.rg.core.TestFiles;
import dev.rg.core.safetensors.Checkpoint;
import dev.rg.core.safetensors.SafetensorsException;
import dev.rg.core.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint split into shards with model.safetensors.index.json loads to the same model. */
class ShardedCheckpointTest {
    @TempDir
    Path tmp;

    private Path shard(Path src) throws IOException {
        Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
        StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
        try (Checkpoint ck = Checkpoint.open(src)) {
            List<RawTensor> a = new ArrayList<>();
            List<RawTensor> b = new ArrayList<>();
            int i = 0;
            for (RawTensor t : ck.tensors().values()) {
                String file = i++ % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                (file.startsWith("model-00001") ? a : b).add(t);
                index.append(i > 1 ? "," : "").append('"').append(t.name()).append("\": \"").append(file).append('"');
            }
            SafetensorsWriter.write(tmp.resolve("model-00001-of-00002.safetensors"), a, Map.of(), x -> {});
            SafetensorsWriter.write(tmp.resolve("model-00002-of-00002.safetensors"), b, Map.of(), x -> {});
        }
        Files.writeString(tmp.resolve("model.safetensors.index.json"), index.append("}}").toString());
        return tmp;
    }

    private static float[] logits(Path dir) {
        try (Model m = Model.load(dir, LoadOptions.defaults().withBackend("reference")); ModelState s = m.newState(1)) {
            float[] out = new float[m.config().vocabSize()];
            m.backend().download(m.griffin().forward(s, new int[] {2, 40, 77, 301}, 4, Outputs.LAST), out);
            return out;
        }
    }

    @Test
    void shardedEqualsSingleFile() throws IOException {
        Path src = TestFiles.modelFixture("tiny-f32");
        assertArrayEquals(logits(src), logits(shard(src)));
    }

    @Test
    void indexNamingAMissingShardIsAClearError() throws IOException {
        Path dir = shard(TestFiles.modelFixture("tiny-f32"));
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        String m = assertThrows(SafetensorsException.class, () -> Checkpoint.open(dir)).getMessage();
        assertTrue(m.contains("model-00002-of-00002.safetensors") && m.contains("does not exist"), m);
    }
}
