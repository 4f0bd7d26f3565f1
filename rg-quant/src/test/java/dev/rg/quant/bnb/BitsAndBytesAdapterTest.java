package dev.rg.quant.bnb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.RawTensor;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.quant.FourBitFormat;
import dev.rg.quant.TestData;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The adapter on the real bitsandbytes files in shared/fixtures/bnb, checked bit-exactly against golden.json. */
class BitsAndBytesAdapterTest {
    private final BitsAndBytesAdapter adapter = new BitsAndBytesAdapter();

    @ParameterizedTest
    @ValueSource(strings = {"nf4", "nf4-dq", "unit-dq-multiblock"})
    void everyQuantisedWeightDequantisesBitExactly(String fixture) {
        Map<String, Map<String, Object>> golden = Fixtures.goldenWeights(fixture);
        assertEquals(fixture.startsWith("unit") ? 2 : 38, golden.size());
        try (Safetensors file = Safetensors.open(Fixtures.bnb(fixture).resolve("model.safetensors"))) {
            for (var e : golden.entrySet()) {
                String name = e.getKey();
                Map<String, Object> g = e.getValue();
                Shape shape = Shape.of(((List<?>) g.get("shape")).stream().mapToLong(o -> (Long) o).toArray());
                HostWeight w = adapter.assemble(name, shape, file.tensors()).orElseThrow();
                boolean dq = fixture.equals("nf4-dq") || name.equals("unit.dq.weight");
                assertEquals(dq ? "nf4-dq" : "nf4", w.format().name(), name);
                w.format().validate(w);
                assertEquals(((Number) g.get("n_blocks")).longValue(), FourBitFormat.blockCount(shape.elementCount()));
                byte[] first8 = w.part(WeightFormat.DATA).asSlice(0, 8).toArray(ValueLayout.JAVA_BYTE);
                assertEquals(g.get("packed_first8_bytes_hex"), HexFormat.of().formatHex(first8), name);
                float[] absmax = FourBitFormat.effectiveAbsmax(w);
                List<?> first4 = (List<?>) g.get("absmax_f32_first4");
                for (int i = 0; i < 4; i++) {
                    assertEquals((float) (double) (Double) first4.get(i), absmax[i], name + " absmax " + i);
                }
                if (dq) {
                    float offset = (float) (double) (Double) g.get("nested_offset");
                    assertEquals(offset, (float) w.param(FourBitFormat.OFFSET));
                }
                assertEquals(sha(g, "dequant_f32"), Fixtures.sha256F32(w), name + " f32 matrix");
                assertEquals(sha(g, "dequant_f16"), Fixtures.sha256F16(w), name + " f16 matrix");
            }
        }
    }

    private static Object sha(Map<String, Object> g, String key) {
        return ((Map<?, ?>) g.get(key)).get("sha256_le_bytes_row_major");
    }

    @Test
    void secondNestedBlockOfTheUnitFile() {
        Map<String, Object> g = Fixtures.goldenWeights("unit-dq-multiblock").get("unit.dq.weight");
        List<?> values = (List<?>) g.get("absmax_f32_all");
        try (Safetensors file = Safetensors.open(Fixtures.bnb("unit-dq-multiblock").resolve("model.safetensors"))) {
            HostWeight w = adapter.assemble("unit.dq.weight", Shape.matrix(320, 64), file.tensors()).orElseThrow();
            assertEquals(8, w.part(FourBitFormat.NESTED_ABSMAX).byteSize(), "2 nested blocks");
            float[] absmax = FourBitFormat.effectiveAbsmax(w);
            assertEquals(320, values.size());
            for (int b = 0; b < 320; b++) {
                assertEquals((float) ((Number) values.get(b)).doubleValue(), absmax[b], "block " + b);
            }
            HostWeight nodq = adapter.assemble("unit.nodq.weight", Shape.matrix(320, 64), file.tensors()).orElseThrow();
            assertEquals(file.get("unit.nodq.weight").data(), nodq.part(WeightFormat.DATA),
                    "no copy: the file's bytes");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nf4", "nf4-dq"})
    void everythingElseIsLeftToTheDenseLoader(String fixture) {
        Map<String, Map<String, Object>> golden = Fixtures.goldenWeights(fixture);
        try (Safetensors file = Safetensors.open(Fixtures.bnb(fixture).resolve("model.safetensors"))) {
            int plain = 0;
            for (RawTensor t : file.all().values()) {
                String n = t.name();
                if (golden.containsKey(n) || n.contains(".weight.")) {
                    continue; // a quantised weight or one of its statistics
                }
                assertTrue(adapter.assemble(n, t.shape(), file.tensors()).isEmpty(), n);
                assertEquals("F16", t.dtype().safetensorsName(), n);
                plain++;
            }
            assertEquals(74, plain);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nf4", "nf4-dq"})
    void acceptsTheFixtureConfigs(String fixture) {
        Map<String, Object> config = Fixtures.json(Fixtures.bnb(fixture).resolve("config.json"));
        @SuppressWarnings("unchecked")
        Map<String, Object> qc = (Map<String, Object>) config.get("quantization_config");
        assertTrue(adapter.accepts(qc));
    }

    @Test
    void acceptsOnlyBitsandbytes4bit() {
        assertFalse(adapter.accepts(Map.of()));
        assertFalse(adapter.accepts(Map.of("quant_method", "gptq", "bits", 4)));
        assertTrue(adapter.accepts(Map.of("quant_method", "bitsandbytes", "load_in_4bit", true,
                "bnb_4bit_quant_type", "fp4")));
        assertTrue(adapter.accepts(Map.of("quant_method", "bitsandbytes", "_load_in_4bit", true,
                "bnb_4bit_quant_storage", "bfloat16")));
    }

    @Test
    void refusesWhatItCannotRead() {
        Map<String, Object> base = Map.of("quant_method", "bitsandbytes", "load_in_4bit", true);
        assertRefused(with(Map.of("quant_method", "bitsandbytes", "load_in_8bit", true, "load_in_4bit", false)),
                "bitsandbytes 8-bit (LLM.int8, load_in_8bit) checkpoints are not supported");
        assertRefused(with(Map.of("quant_method", "bitsandbytes")), "neither load_in_4bit nor load_in_8bit");
        assertRefused(with(base, "bnb_4bit_quant_type", "int4"), "bnb_4bit_quant_type \"int4\" is not supported");
        assertRefused(with(base, "bnb_4bit_quant_storage", "float64"), "bnb_4bit_quant_storage \"float64\"");
    }

    private static Map<String, Object> with(Map<String, Object> m, Object... kv) {
        Map<String, Object> out = new HashMap<>(m);
        for (int i = 0; i < kv.length; i += 2) {
            out.put((String) kv[i], kv[i + 1]);
        }
        return out;
    }

    private void assertRefused(Map<String, Object> qc, String expected) {
        InvalidWeightException e = assertThrows(InvalidWeightException.class, () -> adapter.accepts(qc));
        assertTrue(e.getMessage().startsWith("quantization_config: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void readmeWorkedExample() {
        try (Safetensors file = Safetensors.open(Fixtures.bnb("nf4").resolve("model.safetensors"))) {
            HostWeight w = adapter.assemble("model.layers.0.temporal_block.linear_x.weight", Shape.matrix(64, 64),
                    file.tensors()).orElseThrow();
            float[] row = new float[64];
            w.format().dequantizeRow(w, 0, row, 0);
            assertEquals(-0.029008862f, row[0]);
            assertEquals(-0.09062403f, row[1]);
            assertEquals(-0.029008862f, TestData.dequantize(w)[0]);
        }
    }
}
