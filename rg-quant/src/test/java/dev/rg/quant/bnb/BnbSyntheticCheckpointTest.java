package dev.rg.quant.bnb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.quant.FourBitCodeBook;
import dev.rg.quant.FourBitFormat;
import dev.rg.quant.Fp4DqFormat;
import dev.rg.quant.Fp4Format;
import dev.rg.quant.Nf4DqFormat;
import dev.rg.quant.Nf4Format;
import dev.rg.quant.TestData;
import dev.rg.quant.bnb.Safetensors.Entry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the fixtures do not cover (README section 4): FP4, n not a multiple of 64 (partial last block, odd
 * nibble count, blocks across rows) and a non-uint8 quant_storage. Checkpoints are written in bitsandbytes'
 * layout from rg's quantiser, then read back through the adapter.
 */
class BnbSyntheticCheckpointTest {
    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new Fp4Format(), 5, 13, DType.U8), // 65 elements: odd, partial last block
                Arguments.of(new Fp4DqFormat(), 7, 100, DType.U8), // blocks across rows
                Arguments.of(new Nf4Format(), 5, 13, DType.U8),
                Arguments.of(new Nf4DqFormat(), 600, 30, DType.U8), // 282 blocks: 2 nested groups
                Arguments.of(new Nf4Format(), 8, 64, DType.BF16)); // bnb_4bit_quant_storage bfloat16
    }

    @ParameterizedTest
    @MethodSource("cases")
    void writtenInBitsandbytesLayoutAndReadBack(FourBitFormat f, int rows, int cols, DType storage) {
        String p = "model.layers.3.mlp_block.down_proj.weight";
        float[] m = TestData.heavyTailed(rows, cols, 0.03, rows * 31L + cols);
        Shape shape = Shape.matrix(rows, cols);
        try (Arena arena = Arena.ofConfined()) {
            HostWeight q = f.quantize(p, shape, TestData.rows(m, cols), arena);
            Map<String, Entry> t = new LinkedHashMap<>();
            byte[] packed = bytes(q.part(WeightFormat.DATA));
            long elems = packed.length / storage.byteSize();
            t.put(p, new Entry(storage, new long[] {elems, 1}, packed));
            FourBitCodeBook cb = f.codeBook();
            t.put(p + ".quant_map", new Entry(DType.F32, new long[] {16}, floats(cb.toArray())));
            long nb = FourBitFormat.blockCount((long) rows * cols);
            String json = "{\"quant_type\": \"" + cb.quantType() + "\", \"blocksize\": 64, \"dtype\": \"bfloat16\", "
                    + "\"shape\": [" + rows + ", " + cols + "]";
            if (f.isDoubleQuantized()) {
                t.put(p + ".absmax", new Entry(DType.U8, new long[] {nb}, bytes(q.part(FourBitFormat.ABSMAX))));
                byte[] nested = bytes(q.part(FourBitFormat.NESTED_ABSMAX));
                t.put(p + ".nested_absmax", new Entry(DType.F32, new long[] {nested.length / 4}, nested));
                t.put(p + ".nested_quant_map", new Entry(DType.F32, new long[] {256},
                        bytes(q.part(FourBitFormat.NESTED_QUANT_MAP))));
                json += ", \"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": "
                        + q.param(FourBitFormat.OFFSET);
            } else {
                t.put(p + ".absmax", new Entry(DType.F32, new long[] {nb}, bytes(q.part(FourBitFormat.ABSMAX))));
            }
            byte[] js = (json + "}").getBytes(StandardCharsets.UTF_8);
            t.put(p + ".quant_state.bitsandbytes__" + cb.quantType(), new Entry(DType.U8, new long[] {js.length}, js));
            Path file = dir.resolve("model.safetensors");
            Safetensors.write(file, t);

            try (Safetensors st = Safetensors.open(file)) {
                HostWeight w = new BitsAndBytesAdapter().assemble(p, shape, st.tensors()).orElseThrow();
                assertEquals(f.name(), w.format().name());
                assertArrayEquals(TestData.dequantize(q), TestData.dequantize(w));
            }
        }
    }

    private static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }
}
