package dev.rg.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.Floats;
import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class Int8FormatTest {
    private static final Int8Format INT8 = new Int8Format();

    private static HostWeight quantize(float[] m, int rows, int cols, Arena arena) {
        return INT8.quantize("w", Shape.matrix(rows, cols), TestData.rows(m, cols), arena);
    }

    @Test
    void roundTripErrorIsAtMostHalfAStep() {
        int rows = 48;
        int cols = 70; // 3 blocks per row, the last one 6 wide
        for (float[] m : List.of(TestData.gaussian(rows, cols, 0.02, 31), TestData.heavyTailed(rows, cols, 0.02, 32),
                TestData.rowScaled(rows, cols, 33))) {
            try (Arena arena = Arena.ofConfined()) {
                HostWeight w = quantize(m, rows, cols, arena);
                INT8.validate(w);
                assertEquals(INT8.byteSize(w.shape()), w.byteSize());
                float[] d = TestData.dequantize(w);
                MemorySegment scales = w.part(Int8Format.SCALE);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        float s = INT8.scale(scales, r * 3L + c / 32);
                        int i = r * cols + c;
                        // rint's half step, plus the clamp's at most 127 * 2^-11 relative (f16 rounding of the scale)
                        assertTrue(Math.abs(d[i] - m[i]) <= s * 0.5f + Math.abs(m[i]) * 0x1p-11f + 1e-9f,
                                "[" + r + "," + c + "] " + m[i] + " -> " + d[i]);
                    }
                }
                assertTrue(TestData.relRms(d, m) < 0.01, "rel " + TestData.relRms(d, m));
            }
        }
    }

    @Test
    void everyRowStartsANewBlockAndScalesAreF16() {
        int cols = 70;
        float[] m = TestData.gaussian(2, cols, 0.05, 34);
        m[cols + 65] = 3.0f; // row 1, block 2 (columns 64..69)
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = quantize(m, 2, cols, arena);
            assertEquals(2 * 3 * 2, w.part(Int8Format.SCALE).byteSize());
            short bits = w.part(Int8Format.SCALE).get(ValueLayout.JAVA_SHORT_UNALIGNED, 5 * 2);
            assertEquals(Floats.f16ToFloat(Floats.floatToF16(3.0f / 127f)), Floats.f16ToFloat(bits));
            assertEquals(127, w.part(WeightFormat.DATA).get(ValueLayout.JAVA_BYTE, cols + 65));
            float[] row = new float[cols];
            INT8.dequantizeRow(w, 1, row, 0);
            assertEquals(3.0f, row[65], 3.0f * 0x1p-11f);
        }
    }

    @Test
    void dequantisationIsExactProductOfCodeAndF16Scale() {
        float[] m = TestData.heavyTailed(16, 64, 0.5, 35);
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = quantize(m, 16, 64, arena);
            float[] d = TestData.dequantize(w);
            for (int i = 0; i < d.length; i++) {
                int q = w.part(WeightFormat.DATA).get(ValueLayout.JAVA_BYTE, i);
                double s = INT8.scale(w.part(Int8Format.SCALE), i / 32);
                assertEquals(q * s, d[i], 0.0, "float32 holds the product exactly, so kernels cannot differ");
            }
        }
    }

    @Test
    void edgeCasesOfTheScale() {
        float[] m = TestData.gaussian(3, 32, 1e-7, 36); // row 0: tiny values, the f16 scale would underflow
        for (int c = 0; c < 32; c++) {
            m[32 + c] = 0f; // row 1: all zeros
        }
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = quantize(m, 3, 32, arena);
            INT8.validate(w);
            float[] d = TestData.dequantize(w);
            assertEquals(0x1p-24f, INT8.scale(w.part(Int8Format.SCALE), 0), "smallest f16 subnormal");
            assertEquals(0f, INT8.scale(w.part(Int8Format.SCALE), 1));
            for (int c = 0; c < 32; c++) {
                assertEquals(0f, d[32 + c]);
                assertTrue(Math.abs(d[c] - m[c]) <= 0x1p-25f + 1e-12f);
            }
            float[] huge = TestData.gaussian(1, 32, 1, 37);
            huge[5] = 1e7f;
            InvalidWeightException e = assertThrows(InvalidWeightException.class, () -> quantize(huge, 1, 32, arena));
            assertTrue(e.getMessage().contains("beyond the float16 scale range"), e.getMessage());
            huge[5] = Float.NaN;
            e = assertThrows(InvalidWeightException.class, () -> quantize(huge, 1, 32, arena));
            assertEquals("cannot quantise weight 'w' [1, 32] to int8: element [0, 5] is NaN", e.getMessage());
        }
    }

    @Test
    void validateNamesTheWeightAndWhatIsWrong() {
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = quantize(TestData.gaussian(4, 40, 0.02, 38), 4, 40, arena);
            Map<String, MemorySegment> parts = new HashMap<>(w.parts());
            parts.put(Int8Format.SCALE, w.part(Int8Format.SCALE).asSlice(0, 14));
            InvalidWeightException e = assertThrows(InvalidWeightException.class,
                    () -> INT8.validate(new HostWeight("w", w.shape(), INT8, parts, Map.of())));
            assertEquals("weight 'w' (int8, shape [4, 40]) part 'scale' has 14 bytes, expected 16 "
                    + "(8 F16 scales (2 per row of 40))", e.getMessage());
            w.part(Int8Format.SCALE).set(ValueLayout.JAVA_SHORT_UNALIGNED, 6, Floats.floatToF16(Float.NaN));
            e = assertThrows(InvalidWeightException.class, () -> INT8.validate(w));
            assertTrue(e.getMessage().contains("scale 3 is NaN"), e.getMessage());
            HostWeight noScale = new HostWeight("w", w.shape(), INT8, Map.of("data", w.part("data")), Map.of());
            e = assertThrows(InvalidWeightException.class, () -> INT8.validate(noScale));
            assertTrue(e.getMessage().contains("has no part 'scale'"), e.getMessage());
        }
    }

    @Test
    void layoutAndVariants() {
        FormatLayout l = INT8.layout();
        assertEquals(8, l.bitsPerElement());
        assertEquals(32, l.blockSize());
        assertEquals(FormatLayout.ScaleType.F16, l.scaleType());
        assertFalse(l.blocksSpanRows());
        assertEquals(List.of("data", "scale"), l.parts());
        assertEquals(FormatLayout.ElementEncoding.INT8_SYMMETRIC, l.elementEncoding());
        assertEquals(FormatLayout.Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN, l.packing());
        assertEquals(0, l.codeBook().length);
        assertEquals("int8", INT8.name());
        assertEquals(4096 + 128 * 2, INT8.byteSize(Shape.matrix(64, 64)));
        Int8Format variant = new Int8Format(64, FormatLayout.ScaleType.F32);
        assertEquals("int8-b64-f32", variant.name());
        assertFalse(variant.equals(INT8));
        assertEquals(new Int8Format(), INT8);
        float[] m = TestData.gaussian(3, 100, 0.02, 39);
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = variant.quantize("w", Shape.matrix(3, 100), TestData.rows(m, 100), arena);
            variant.validate(w);
            assertArrayEquals(new long[] {3 * 100, 3 * 2 * 4},
                    new long[] {w.part("data").byteSize(), w.part("scale").byteSize()});
            assertTrue(TestData.relRms(TestData.dequantize(w), m) < 0.01);
        }
    }
}
