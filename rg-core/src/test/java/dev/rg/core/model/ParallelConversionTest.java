package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.rg.core.TestFiles;
import org.junit.jupiter.api.Test;

/**
 * Tensors are read and converted to {@code --format} on helper threads ({@link ModelAssembler}); each conversion is its
 * own, so every load gives the same weights: the same logits, bit for bit, load after load.
 */
class ParallelConversionTest {
    @Test
    void convertedWeightsAreTheSameBitsEveryLoad() {
        int[] ids = {2, 17, 300, 41, 9, 255, 3};
        float[] first = null;
        for (int round = 0; round < 4; round++) {
            LoadOptions options = LoadOptions.defaults().withBackend("reference").withFormat("bf16", true);
            try (Model m = Model.load(TestFiles.modelFixture("tiny-f32"), options); ModelState s = m.newState(1)) {
                float[] logits = new float[m.config().vocabSize()];
                m.backend().download(m.griffin().forward(s, ids, ids.length, Outputs.LAST), logits);
                if (first == null) {
                    first = logits;
                } else {
                    assertArrayEquals(first, logits, "load " + round);
                }
            }
        }
    }
}
