package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.core.TestFiles;
import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import org.junit.jupiter.api.Test;

/**
 * The matrix-product FLOPs per token that {@code rg bench} divides its prefill and batch rates by, against the same
 * count written out from the config's widths (Griffin's shapes, spec section on the temporal blocks).
 */
class FlopsPerTokenTest {

    @Test
    void flopsPerTokenCountsEveryLayerMatmulAndTheHeadOnlyWhenAsked() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            ModelConfig c = m.config();
            long h = c.hiddenSize();
            long r = c.lruWidth();
            long bw = r / c.heads();
            long macs = 0;
            for (int layer = 0; layer < c.layers(); layer++) {
                macs += 3L * c.mlpWidth() * h; // gate, up, down
                if (c.blockType(layer) == BlockType.RECURRENT) {
                    macs += 3L * r * h + 2L * c.heads() * bw * bw; // x, y, out; the block-diagonal input and recurrence gates
                } else {
                    long qo = (long) c.heads() * c.headDim() * h;
                    macs += 2 * qo + 2L * c.kvHeads() * c.headDim() * h; // q, o; k, v
                }
            }
            assertEquals(2 * macs, m.flopsPerToken(false));
            assertEquals(2 * (macs + (long) c.vocabSize() * h), m.flopsPerToken(true));
        }
    }
}
