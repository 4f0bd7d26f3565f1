package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import dev.rg.core.TestFiles;
import dev.rg.core.config.ConfigException;
import dev.rg.core.safetensors.Checkpoint;
import dev.rg.core.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLoadErrorsTest {
    @TempDir
    Path tmp;

    private static final LoadOptions REF = LoadOptions.defaults().withBackend("reference");

    /** Copies tiny-f32 with its tensors transformed (null drops one). */
    private Path variant(UnaryOperator<RawTensor> change) throws IOException {
        Path src = TestFiles.modelFixture("tiny-f32");
        Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
        try (Checkpoint ck = Checkpoint.open(src)) {
            List<RawTensor> out = new ArrayList<>();
            for (RawTensor t : ck.tensors().values()) {
                RawTensor c = change.apply(t);
                if (c != null) {
                    out.add(c);
                }
            }
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), out, Map.of("format", "pt"), b -> {});
        }
        return tmp;
    }

    private static String loadError(Path dir) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> Model.load(dir, REF).close());
        return e.getMessage();
    }

    @Test
    void missingTensor() throws IOException {
        String name = "model.layers.2.temporal_block.k_proj.weight";
        String m = loadError(variant(t -> t.name().equals(name) ? null : t));
        assertTrue(m.contains("no tensor '" + name + "'") && m.contains("[16, 64]"), m);
    }

    @Test
    void wrongShape() throws IOException {
        String name = "model.layers.0.mlp_block.up_proj.weight";
        String m = loadError(variant(t -> t.name().equals(name)
                ? new RawTensor(t.name(), t.dtype(), Shape.of(64, 96), t.data(), t.file()) : t));
        assertTrue(m.contains(name) && m.contains("[64, 96]") && m.contains("[96, 64]"), m);
    }

    @Test
    void unsupportedDtype() throws IOException {
        String name = "model.final_norm.weight";
        String m = loadError(variant(t -> t.name().equals(name)
                ? new RawTensor(t.name(), DType.I32, t.shape(), t.data(), t.file()) : t));
        assertTrue(m.contains(name) && m.contains("I32"), m);
    }

    @Test
    void configFieldOfWrongType() throws IOException {
        Path dir = variant(t -> t);
        Files.writeString(dir.resolve("config.json"),
                Files.readString(dir.resolve("config.json")).replace("\"num_hidden_layers\": 6", "\"num_hidden_layers\": \"six\""));
        String m = assertThrows(ConfigException.class, () -> Model.load(dir, REF)).getMessage();
        assertTrue(m.contains("num_hidden_layers"), m);
    }

    @Test
    void directoryWithoutWeights() throws IOException {
        Files.copy(TestFiles.modelFixture("tiny-f32").resolve("config.json"), tmp.resolve("config.json"));
        String m = loadError(tmp);
        assertTrue(m.contains("no model.safetensors"), m);
    }

    @Test
    void badTokenIdsAndEmptyInput() {
        try (Model m = Model.load(TestFiles.modelFixture("tiny-f32"), REF); ModelState s = m.newState(1)) {
            String msg = assertThrows(IllegalArgumentException.class,
                    () -> m.griffin().forward(s, new int[] {2, 512}, 2, Outputs.LAST)).getMessage();
            assertTrue(msg.contains("512") && msg.contains("vocabulary"), msg);
            assertThrows(IllegalArgumentException.class, () -> m.griffin().forward(s, new int[] {-1}, 1, Outputs.LAST));
            msg = assertThrows(IllegalArgumentException.class, () -> m.griffin().forward(s, new int[0], 0, Outputs.LAST))
                    .getMessage();
            assertTrue(msg.contains("empty"), msg);
        }
    }

    @Test
    void unknownBackendAndFormat() {
        String m = assertThrows(RuntimeException.class,
                () -> Model.load(TestFiles.modelFixture("tiny-f32"), LoadOptions.defaults().withBackend("nope"))).getMessage();
        assertTrue(m.contains("unknown backend 'nope'") && m.contains("reference"), m);
        m = assertThrows(RuntimeException.class,
                () -> Model.load(TestFiles.modelFixture("tiny-f32"), REF.withFormat("q3_weird", false))).getMessage();
        assertTrue(m.contains("q3_weird") && m.contains("known formats"), m);
    }

    @Test
    void theFirstBadTensorInLoadOrderIsNamedWhileLaterOnesConvertAhead() throws IOException {
        // tensors are read and converted on helper threads ahead of loading; the error is still the first in order
        String first = "model.layers.0.temporal_block.linear_x.weight";
        String later = "model.layers.5.temporal_block.k_proj.weight";
        Path dir = variant(t -> t.name().equals(first) || t.name().equals(later) ? null : t);
        for (int round = 0; round < 5; round++) {
            String m = assertThrows(InvalidWeightException.class,
                    () -> Model.load(dir, REF.withFormat("bf16", false)).close()).getMessage();
            assertTrue(m.contains("no tensor '" + first + "'"), m);
        }
    }

    @Test
    void invalidWeightExceptionIsTheTypeForBadTensors() throws IOException {
        String name = "model.embed_tokens.weight";
        assertThrows(InvalidWeightException.class, () -> Model.load(variant(t -> t.name().equals(name) ? null : t), REF));
    }
}
