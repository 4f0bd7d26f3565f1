package dev.rg.quant.bnb;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RawTensor;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import dev.rg.core.FuzzChecks;
import dev.rg.core.model.AdapterTensors;
import java.lang.foreign.MemorySegment;

/**
 * Fuzz target for the bitsandbytes quant_state JSON blob (a U8 tensor), parsed as at run time: by rg-core's JSON
 * reader ({@link AdapterTensors}), then checked by {@link QuantState}. Corpus: {@code QuantStateFuzzTestInputs}.
 */
class QuantStateFuzzTest {
    private static final AdapterTensors TENSORS = AdapterTensors.of(name -> null);

    @FuzzTest(maxDuration = "10m")
    void quantState(byte[] data) {
        if (data.length == 0) {
            return; // a U8 tensor has at least one element; the empty shape is rejected before parsing
        }
        RawTensor t = new RawTensor("model.layers.0.mlp_block.up_proj.weight.quant_state.bitsandbytes__nf4", DType.U8,
                Shape.of(data.length), MemorySegment.ofArray(data), "fuzz.safetensors");
        FuzzChecks.check(data.length, () -> QuantState.parse("model.layers.0.mlp_block.up_proj.weight", t, TENSORS), InvalidWeightException.class);
    }
}
