package dev.rg.quant.bnb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.api.format.Floats;
import dev.rg.api.format.RawTensor;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.HostWeight;
import dev.rg.quant.FourBitFormat;
import dev.rg.quant.Nf4DqFormat;
import dev.rg.quant.Nf4Format;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * rg's quantiser reproduces what bitsandbytes wrote: the nf4 / nf4-dq fixtures were made from the tiny-f32
 * model's weights cast to float16 (transformers casts to torch_dtype before quantising).
 */
class BnbQuantizeReproductionTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void quantisingTheFloat16WeightsGivesTheFixturesBytes() {
        Map<String, Map<String, Object>> golden = Fixtures.goldenWeights("nf4");
        try (Safetensors src = Safetensors.open(Fixtures.shared().resolve("fixtures/model/tiny-f32/model.safetensors"));
                Safetensors nf4 = Safetensors.open(Fixtures.bnb("nf4").resolve("model.safetensors"));
                Safetensors dq = Safetensors.open(Fixtures.bnb("nf4-dq").resolve("model.safetensors"));
                Arena arena = Arena.ofConfined()) {
            for (String name : golden.keySet()) {
                RawTensor t = src.get(name);
                assertEquals(DType.F32, t.dtype(), name);
                int cols = Math.toIntExact(t.shape().lastDim());
                MemorySegment data = t.data();
                HostWeight[] q = new HostWeight[2];
                int k = 0;
                for (FourBitFormat f : new FourBitFormat[] {new Nf4Format(), new Nf4DqFormat()}) {
                    q[k++] = f.quantize(name, t.shape(), (row, dst) -> {
                        for (int c = 0; c < cols; c++) {
                            float x = data.get(F32, (row * cols + c) * 4);
                            dst[c] = Floats.f16ToFloat(Floats.floatToF16(x)); // torch_dtype float16
                        }
                    }, arena);
                }
                assertSame(nf4.get(name), q[0].part(WeightFormat.DATA), name);
                assertSame(nf4.get(name + ".absmax"), q[0].part(FourBitFormat.ABSMAX), name + ".absmax");
                assertSame(dq.get(name), q[1].part(WeightFormat.DATA), name + " (dq)");
                assertSame(dq.get(name + ".absmax"), q[1].part(FourBitFormat.ABSMAX), name + ".absmax (dq codes)");
                assertSame(dq.get(name + ".nested_absmax"), q[1].part(FourBitFormat.NESTED_ABSMAX), name);
                assertSame(dq.get(name + ".nested_quant_map"), q[1].part(FourBitFormat.NESTED_QUANT_MAP), name);
                HostWeight fromFile = new BitsAndBytesAdapter().assemble(name, t.shape(), dq.tensors()).orElseThrow();
                assertEquals(fromFile.param(FourBitFormat.OFFSET), q[1].param(FourBitFormat.OFFSET), name + " offset");
            }
        }
    }

    private static void assertSame(RawTensor expected, MemorySegment actual, String what) {
        assertArrayEquals(expected.data().toArray(ValueLayout.JAVA_BYTE), actual.toArray(ValueLayout.JAVA_BYTE), what);
    }
}
