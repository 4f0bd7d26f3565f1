package dev.rg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.bench.cost.CostModel;
import dev.rg.bench.cost.LayerShapes;
import dev.rg.bench.cost.MatrixShape;
import dev.rg.bench.cost.OpCost;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Model;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bytes and FLOPs per operation, against figures worked out by hand and in ../shared/baselines.md. */
class CostModelTest {
    private static OpCost cost(String benchmark, Map<String, String> params) {
        return CostModel.of("dev.rg.bench.jmh." + benchmark, params).orElseThrow();
    }

    @Test
    void matvecReadsTheWeightOnceAtItsFormatsSize() {
        OpCost bf16 = cost("MatmulBench.matvec", Map.of("shape", "7680x2560", "format", "bf16"));
        assertEquals(2.0 * 7680 * 2560, bf16.flops());
        assertEquals(7680 * 2560 * 2 + 4 * (2560 + 7680), bf16.bytes());
        OpCost f32 = cost("MatmulBench.matvec", Map.of("shape", "7680x2560", "format", "f32"));
        assertEquals(7680 * 2560 * 4 + 4 * (2560 + 7680), f32.bytes());
    }

    @Test
    void prefillScalesTheFlopsNotTheWeight() {
        OpCost p = cost("MatmulBench.prefill", Map.of("shape", "2560x2560", "format", "bf16", "tokens", "128"));
        assertEquals(2.0 * 128 * 2560 * 2560, p.flops());
        assertEquals(2560 * 2560 * 2 + 4.0 * 128 * (2560 + 2560), p.bytes());
    }

    @Test
    void batchReadsTheWeightOnceForAllRows() {
        OpCost b = cost("MatmulBench.batch", Map.of("shape", "7680x2560", "format", "bf16", "rows", "16"));
        assertEquals(2.0 * 16 * 7680 * 2560, b.flops());
        assertEquals(7680 * 2560 * 2 + 4.0 * 16 * (2560 + 7680), b.bytes());
    }

    @Test
    void decodeStepOf2bReadsAboutFiveAndAHalfGigabytesInBf16() {
        // baselines.md: ~5.37 GB per token with every weight bf16; Model.random keeps the small weights (norms, biases,
        // conv, RG-LRU gates) f32, ~0.1 GB more. FLOPs: 2 x 2.68 G parameters.
        OpCost c = cost("DecodeBench.decodeStep", Map.of("preset", "2b", "format", "bf16"));
        assertEquals(5.45e9, c.bytes(), 0.1e9);
        assertEquals(5.4e9, c.flops(), 0.2e9);
    }

    @Test
    void decodeStepBytesAreTheModelsWeightsPlusItsState() {
        ModelConfig tiny = ModelConfig.presetTiny();
        try (Model m = Model.random(tiny, "bf16", 1, LoadOptions.defaults().withBackend("reference"), LoadProgress.NONE)) {
            OpCost c = cost("DecodeBench.decodeStep", Map.of("preset", "tiny", "format", "bf16"));
            // state read and written once: two rings of W x 64 per attention layer, conv history + RG-LRU per recurrent layer
            double state = 2.0 * 4 * (2 * 2.0 * tiny.window() * tiny.headDim() + 4.0 * tiny.lruWidth() * tiny.convWidth());
            assertEquals(m.weightBytesPerToken() + state, c.bytes(), 1.0);
        }
    }

    @Test
    void attentionDecodeReadsBothFullRings() {
        OpCost c = cost("KernelBench.attentionDecode", Map.of("preset", "2b"));
        // two rings of 2048 slots x 256 floats
        assertTrue(c.bytes() >= 2.0 * 2048 * 256 * 4);
        assertEquals(10 * 2049 * (4.0 * 256 + 3), c.flops());
    }

    @Test
    void unknownFormatOrBenchmarkHasNoCost() {
        assertTrue(CostModel.of("x.MatmulBench.matvec", Map.of("shape", "2x2", "format", "no-such-format")).isEmpty());
        assertTrue(CostModel.of("x.Other.thing", Map.of()).isEmpty());
    }

    @Test
    void shapesOf2bAreTheLayersOfTheBrief() {
        List<String> shapes = LayerShapes.of(ModelConfig.preset2b()).stream().map(e -> e.shape().toString()).toList();
        assertEquals(List.of("2560x2560", "7680x2560", "2560x7680", "256x2560", "2560x256", "256000x2560"), shapes);
        assertEquals("MLP gate/up", LayerShapes.label("7680x2560"));
        assertEquals(new MatrixShape(256000, 2560), MatrixShape.parse("256000X2560"));
    }
}
