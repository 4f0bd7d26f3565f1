package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.RawTensor;
import dev.rg.core.TestFiles;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.SamplingParams;
import dev.rg.core.generate.Session;
import dev.rg.core.safetensors.Checkpoint;
import dev.rg.core.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NaN in the weights is an error naming the first layer and op, in greedy decoding (where only the argmax id
 * leaves the backend) and in sampling, never empty output or a garbage token.
 */
class NonFiniteDetectionTest {
    @TempDir
    Path tmp;

    private static final LoadOptions REF = LoadOptions.defaults().withBackend("reference");
    private static final String POISONED = "model.layers.2.temporal_block.k_proj.weight";

    /** tiny-f32 with one NaN in layer 2's k_proj (an attention layer). */
    private Path poisoned(Arena arena) throws IOException {
        Path src = TestFiles.modelFixture("tiny-f32");
        Files.copy(src.resolve("config.json"), tmp.resolve("config.json"));
        try (Checkpoint ck = Checkpoint.open(src)) {
            List<RawTensor> out = new ArrayList<>();
            for (RawTensor t : ck.tensors().values()) {
                if (t.name().equals(POISONED)) {
                    MemorySegment copy = arena.allocate(t.data().byteSize());
                    copy.copyFrom(t.data());
                    copy.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * 37, Float.NaN);
                    t = new RawTensor(t.name(), t.dtype(), t.shape(), copy, t.file());
                }
                out.add(t);
            }
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), out, Map.of("format", "pt"), b -> {});
        }
        return tmp;
    }

    @Test
    void greedyAndSampledGenerationFailNamingTheLayer() throws IOException {
        try (Arena arena = Arena.ofConfined(); Model m = Model.load(poisoned(arena), REF)) {
            int[] prompt = {2, 17, 300, 41};
            for (SamplingParams p : new SamplingParams[] {SamplingParams.greedy(), new SamplingParams(0.7f, 0, 1f, 0f, 1f, 1)}) {
                try (Session s = new Session(m, null)) {
                    NonFiniteException e = assertThrows(NonFiniteException.class, () -> {
                        s.feed(prompt);
                        s.generate(GenerationConfig.greedy(4).withSampling(p), t -> true);
                    });
                    assertTrue(e.getMessage().contains("layer 2 (attention), op k_proj"), e.getMessage());
                }
            }
            String where = m.griffin().locateNonFinite(prompt);
            assertTrue(where.startsWith("layer 2 (attention), op k_proj: NaN"), where);
        }
    }

    @Test
    void aHealthyModelIsFiniteEverywhere() {
        try (Model m = Model.load(TestFiles.modelFixture("tiny-f32"), REF)) {
            assertNull(m.griffin().locateNonFinite(new int[] {2, 17, 300, 41, 9}));
        }
    }

    @Test
    void weightScanFindsTheElement() throws IOException {
        try (Arena arena = Arena.ofConfined(); Checkpoint ck = Checkpoint.open(poisoned(arena))) {
            RawTensor t = ck.find(POISONED);
            assertTrue(Finite.firstNonFinite(t.data(), t.dtype()) == 37);
            assertTrue(Finite.firstNonFinite(ck.find("model.layers.0.mlp_block.up_proj.weight").data(), t.dtype()) == -1);
        }
    }
}
