package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** softplus(Λ), computed once at load: torch's softplus with threshold 20, in float32, for Λ only. */
class SoftplusLambdaTest {
    @Test
    void torchSoftplusWithItsThreshold() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 1000; i++) {
            float x = (float) (random.nextDouble() * 60 - 30);
            float want = x > 20f ? x : (float) Math.log1p(Math.exp(x));
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(SoftplusLambda.softplus(x)), "softplus(" + x + ")");
        }
        // above the threshold it is the identity (the linear branch), at and below it log(1 + e^x)
        for (float x : new float[] {20.000002f, 25f, 87.5f, 1e6f}) {
            assertEquals(x, SoftplusLambda.softplus(x));
        }
        assertEquals((float) Math.log1p(Math.exp(20.0)), SoftplusLambda.softplus(20f));
        assertEquals((float) Math.log1p(Math.exp(-3.25)), SoftplusLambda.softplus(-3.25f));
    }

    @Test
    void theRecurrentParamIsReplacedAtLoadAndNothingElse() {
        SplittableRandom random = new SplittableRandom(8);
        int r = 37;
        float[] lambda = new float[r];
        for (int i = 0; i < r; i++) {
            lambda[i] = (float) (random.nextGaussian() * 8 + 2);
        }
        lambda[3] = 25f;
        try (Arena arena = Arena.ofConfined()) {
            String name = "model.layers.0.temporal_block.rg_lru.recurrent_param";
            HostWeight bf16 = WeightFormats.bf16().quantize(name, Shape.of(r), (row, dst) -> System.arraycopy(lambda, 0, dst, 0, r),
                    arena);
            HostWeight c = SoftplusLambda.atLoad(bf16, arena);
            assertEquals(name, c.name());
            assertEquals(Shape.of(r), c.shape());
            assertEquals("f32", c.format().name(), "kept in float32, as the reference computed it per call");
            float[] stored = new float[r];
            bf16.format().dequantizeRow(bf16, 0, stored, 0);
            float[] got = new float[r];
            c.format().dequantizeRow(c, 0, got, 0);
            for (int i = 0; i < r; i++) {
                assertEquals(SoftplusLambda.softplus(stored[i]), got[i], "channel " + i);
            }
            assertEquals(25f, got[3]);
            HostWeight gate = WeightFormats.f32().quantize("model.layers.0.temporal_block.rg_lru.input_gate_bias", Shape.of(r),
                    (row, dst) -> System.arraycopy(lambda, 0, dst, 0, r), arena);
            assertSame(gate, SoftplusLambda.atLoad(gate, arena));
        }
    }
}
