package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Model;
import org.junit.jupiter.api.Test;

/** {@code rg bench --resume}: a save and a restore per repetition, of a file holding only the written ring slots. */
class ResumeBenchmarkTest {
    @Test
    void timesSaveAndRestoreOfAFileWithOnlyTheWrittenSlots() {
        ModelConfig c = ModelConfig.presetTiny();
        try (Model m = Model.random(c, "bf16", 7, LoadOptions.defaults().withBackend("reference"), LoadProgress.NONE)) {
            int prompt = 10;
            ResumeBenchmark.Result r = ResumeBenchmark.run(m, prompt, 2);
            assertEquals(2, r.saveMs().samples().length);
            assertTrue(r.saveMs().min() > 0 && r.restoreMs().min() > 0);
            long data = 4L * prompt; // token ids
            for (int l = 0; l < c.layers(); l++) {
                data += c.blockType(l) == BlockType.RECURRENT ? 4L * c.convWidth() * c.lruWidth()
                        : 2 * 4L * Math.min(prompt, c.window()) * c.kvHeads() * c.headDim();
            }
            // the data, and a JSON header of a few KB
            assertTrue(r.fileBytes() > data && r.fileBytes() < data + 16_384, r.fileBytes() + " bytes for " + data + " of data");
        }
    }
}
