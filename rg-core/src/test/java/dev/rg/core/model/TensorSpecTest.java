package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rg.core.config.BlockType;
import dev.rg.core.config.ModelConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TensorSpecTest {

    @Test
    void theTableCoversEveryParameterOnceForThePresets() {
        for (ModelConfig c : List.of(ModelConfig.presetTiny(), ModelConfig.preset2b(), ModelConfig.preset9b())) {
            List<ExpectedTensor> tensors = WeightNames.tensors(c);
            Set<String> names = new HashSet<>();
            long elements = 0;
            for (ExpectedTensor t : tensors) {
                names.add(t.name());
                elements += t.shape().elementCount();
                // a checkpoint name leads back to its spec (how isLinear and the format report find a tensor's role)
                assertSame(t.spec(), TensorSpec.of(t.name()), t.name());
                assertEquals(t.spec().shape(c), t.shape());
            }
            assertEquals(tensors.size(), names.size(), "a name appears twice");
            assertEquals(c.parameterCount(), elements, "the table and ModelConfig.parameterCount disagree");
            int perRecurrent = 2 + 6 + 13;
            int perAttention = 2 + 6 + 5 + (c.attentionBias() ? 3 : 0);
            assertEquals(2 + c.count(BlockType.RECURRENT) * perRecurrent + c.count(BlockType.ATTENTION) * perAttention, tensors.size());
        }
    }

    @Test
    void onlyTheProjectionsAreLinear() {
        for (ExpectedTensor t : WeightNames.tensors(ModelConfig.presetTiny())) {
            boolean projection = t.name().endsWith(".weight") && (t.name().contains(".mlp_block.")
                    || t.name().contains("temporal_block.linear_") || t.name().matches(".*temporal_block\\.[qkvo]_proj\\.weight"));
            assertEquals(projection, WeightNames.isLinear(t.name()), t.name());
        }
        assertNull(TensorSpec.of("model.layers.3.temporal_block.bogus.weight"));
        assertNull(TensorSpec.of("temporal_pre_norm.weight"));
        assertNull(TensorSpec.of("model.layers.final_norm.weight"));
        assertNull(TensorSpec.of(WeightNames.LM_HEAD));
        assertSame(TensorSpec.EMBEDDING, TensorSpec.of(WeightNames.EMBEDDING));
    }

    @Test
    void layersAreBoundToTheirSealedKindAndTheLinearFormatIsReported() {
        ModelConfig c = ModelConfig.presetTiny();
        try (Model m = Model.random(c, "f16", 11, LoadOptions.defaults().withBackend("reference"), LoadProgress.NONE)) {
            List<LayerWeights> layers = m.griffin().weights().layers();
            for (int l = 0; l < c.layers(); l++) {
                LayerWeights lw = layers.get(l);
                assertEquals(c.blockType(l), lw.type());
                switch (lw) {
                    case LayerWeights.RecurrentLayer r -> assertEquals(c.lruWidth(), r.recurrent().lru().softplusLambda().shape().dim(0));
                    case LayerWeights.AttentionLayer a -> assertNull(a.attention().qBias());
                }
            }
            assertEquals("f16", m.linearFormat());
            assertEquals("bf16", m.formats().get(WeightNames.EMBEDDING));
        }
        assertThrows(NullPointerException.class, () -> new LayerWeights.AttentionLayer(null, null, null, null));
    }
}
