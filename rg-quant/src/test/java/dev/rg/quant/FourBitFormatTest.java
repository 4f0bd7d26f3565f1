package dev.rg.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.InvalidWeightException;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class FourBitFormatTest {
    static Stream<FourBitFormat> formats() {
        return Stream.of(new Nf4Format(), new Nf4DqFormat(), new Fp4Format(), new Fp4DqFormat());
    }

    private static HostWeight quantize(FourBitFormat f, float[] m, int rows, int cols, Arena arena) {
        return f.quantize("w", Shape.matrix(rows, cols), TestData.rows(m, cols), arena);
    }

    /** The reference definition over flattened indices, written independently of dequantizeRow. */
    private static float[] reference(HostWeight w) {
        int n = Math.toIntExact(w.shape().elementCount());
        float[] absmax = FourBitFormat.effectiveAbsmax(w);
        float[] out = new float[n];
        MemorySegment data = w.part(WeightFormat.DATA);
        FourBitCodeBook cb = ((FourBitFormat) w.format()).codeBook();
        for (int i = 0; i < n; i++) {
            int b = data.get(ValueLayout.JAVA_BYTE, i / 2) & 0xFF;
            int code = i % 2 == 0 ? b >> 4 : b & 15;
            out[i] = cb.value(code) * absmax[i / 64];
        }
        return out;
    }

    @Test
    void evenElementIsInTheHighNibble() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(2);
            data.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x64); // README's example: codes 6, 4, 6, 8
            data.set(ValueLayout.JAVA_BYTE, 1, (byte) 0x68);
            MemorySegment absmax = arena.allocate(4);
            absmax.set(Le.F32, 0, 0.31860352f);
            HostWeight w = new HostWeight("x", Shape.matrix(1, 4), new Nf4Format(),
                    Map.of(WeightFormat.DATA, data, FourBitFormat.ABSMAX, absmax), Map.of());
            w.format().validate(w);
            float[] row = new float[4];
            w.format().dequantizeRow(w, 0, row, 0);
            FourBitCodeBook nf4 = FourBitCodeBook.NF4;
            assertArrayEquals(new float[] {nf4.value(6) * 0.31860352f, nf4.value(4) * 0.31860352f,
                nf4.value(6) * 0.31860352f, nf4.value(8) * 0.31860352f}, row);
            assertEquals(-0.029008862f, row[0], "README worked example, w[0]");

            float[] m = {-1.7f, 1.7f, 0.01f, -0.9f}; // codes 0 (-1), 15 (+1), 7 (0), 2 (-0.529 -> -0.525)
            HostWeight q = quantize(new Nf4Format(), m, 1, 4, arena);
            assertEquals((byte) 0x0F, q.part(WeightFormat.DATA).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals((byte) 0x72, q.part(WeightFormat.DATA).get(ValueLayout.JAVA_BYTE, 1));
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void blocksRunOverTheFlattenedTensorAcrossRows(FourBitFormat f) {
        int rows = 3;
        int cols = 40; // 120 elements: block 0 = row 0 + the first 24 of row 1, block 1 = the rest
        float[] m = TestData.gaussian(rows, cols, 0.05, 21);
        m[50] = 0.9f; // the largest value of block 0 sits in row 1
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = quantize(f, m, rows, cols, arena);
            w.format().validate(w);
            float[] absmax = FourBitFormat.effectiveAbsmax(w);
            assertEquals(2, absmax.length);
            if (!f.isDoubleQuantized()) {
                assertEquals(0.9f, absmax[0]);
                float max1 = 0;
                for (int i = 64; i < 120; i++) {
                    max1 = Math.max(max1, Math.abs(m[i]));
                }
                assertEquals(max1, absmax[1]);
            }
            assertArrayEquals(reference(w), TestData.dequantize(w));
            float[] row1 = new float[cols + 3];
            f.dequantizeRow(w, 1, row1, 3); // at an offset into dst
            float[] ref = reference(w);
            for (int c = 0; c < cols; c++) {
                assertEquals(ref[cols + c], row1[3 + c], "row 1 col " + c);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void oddElementCountPadsTheLastLowNibble(FourBitFormat f) {
        float[] m = TestData.heavyTailed(5, 5, 0.1, 22);
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = quantize(f, m, 5, 5, arena);
            w.format().validate(w);
            assertEquals(13, w.part(WeightFormat.DATA).byteSize());
            assertEquals(0, w.part(WeightFormat.DATA).get(ValueLayout.JAVA_BYTE, 12) & 0x0F);
            assertArrayEquals(reference(w), TestData.dequantize(w));
            assertEquals(f.byteSize(Shape.matrix(5, 5)), w.byteSize());
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void roundTripErrorIsBounded(FourBitFormat f) {
        int rows = 96;
        int cols = 200; // not a multiple of 64: blocks cross rows
        // NF4's largest gap is -0.6961928 - (-1), FP4's 1 - 2/3; half of it (plus the double-quantised absmax error)
        double halfGap = f.codeBook() == FourBitCodeBook.NF4 ? 0.1519036 : 0.1666667;
        for (float[] m : List.of(TestData.gaussian(rows, cols, 0.02, 23), TestData.heavyTailed(rows, cols, 0.02, 24))) {
            try (Arena arena = Arena.ofConfined()) {
                HostWeight w = quantize(f, m, rows, cols, arena);
                float[] d = TestData.dequantize(w);
                float[] trueAbsmax = new float[Math.toIntExact(FourBitFormat.blockCount(m.length))];
                for (int i = 0; i < m.length; i++) {
                    trueAbsmax[i / 64] = Math.max(trueAbsmax[i / 64], Math.abs(m[i]));
                }
                float[] absmax = FourBitFormat.effectiveAbsmax(w);
                for (int i = 0; i < m.length; i++) {
                    double bound = trueAbsmax[i / 64] * halfGap + Math.abs(absmax[i / 64] - trueAbsmax[i / 64]) + 1e-7;
                    assertTrue(Math.abs(d[i] - m[i]) <= bound, f + " element " + i + ": " + m[i] + " -> " + d[i]);
                }
                double rel = TestData.relRms(d, m);
                System.out.printf(Locale.ROOT, "%s round trip RMS relative error %.4f%n", f, rel);
                assertTrue(rel < (f.codeBook() == FourBitCodeBook.NF4 ? 0.14 : 0.2), f + " " + rel);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("formats")
    void requantisingTheDequantisedWeightGivesTheSameCodes(FourBitFormat f) {
        float[] m = TestData.gaussian(32, 64, 0.02, 25);
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = quantize(f, m, 32, 64, arena);
            HostWeight again = quantize(f, TestData.dequantize(w), 32, 64, arena);
            if (f.codeBook() == FourBitCodeBook.NF4) {
                assertArrayEquals(w.part(WeightFormat.DATA).toArray(ValueLayout.JAVA_BYTE),
                        again.part(WeightFormat.DATA).toArray(ValueLayout.JAVA_BYTE));
            }
            if (f.isDoubleQuantized()) {
                return; // the requantised offset and nested absmax differ slightly, so the values do too
            }
            // FP4's code 8 ("-0") decodes to +0.0, which requantises to code 0: compare values, not codes
            float[] d1 = TestData.dequantize(w);
            float[] d2 = TestData.dequantize(again);
            for (int i = 0; i < d1.length; i++) {
                assertEquals(d1[i], d2[i], 0f, f + " element " + i);
            }
        }
    }

    @Test
    void doubleQuantisationWithTwoNestedGroups() {
        int rows = 320;
        int cols = 64; // 320 blocks: nested group 0 has 256, group 1 has 64
        float[] m = TestData.rowScaled(rows, cols, 26);
        try (Arena arena = Arena.ofConfined()) {
            HostWeight dq = quantize(new Nf4DqFormat(), m, rows, cols, arena);
            HostWeight single = quantize(new Nf4Format(), m, rows, cols, arena);
            dq.format().validate(dq);
            assertEquals(8, dq.part(FourBitFormat.NESTED_ABSMAX).byteSize());
            assertEquals(320, dq.part(FourBitFormat.ABSMAX).byteSize());
            assertArrayEquals(single.part(WeightFormat.DATA).toArray(ValueLayout.JAVA_BYTE),
                    dq.part(WeightFormat.DATA).toArray(ValueLayout.JAVA_BYTE), "the 4-bit pass is the same");

            float[] eff = FourBitFormat.effectiveAbsmax(dq);
            float[] plain = FourBitFormat.effectiveAbsmax(single);
            float offset = (float) dq.param(FourBitFormat.OFFSET);
            for (int b : new int[] {0, 255, 256, 300, 319}) {
                int code = dq.part(FourBitFormat.ABSMAX).get(ValueLayout.JAVA_BYTE, b) & 0xFF;
                float map = dq.part(FourBitFormat.NESTED_QUANT_MAP).get(Le.F32, code * 4L);
                float nested = dq.part(FourBitFormat.NESTED_ABSMAX).get(Le.F32, (b / 256) * 4L);
                float product = map * nested;
                assertEquals(product + offset, eff[b], "block " + b);
                // the dynamic map's entries near +-1 are 0.014 apart: half of that, relative to the nested absmax
                assertTrue(Math.abs(eff[b] - plain[b]) <= nested * 0.0071f, "block " + b);
            }

            HostWeight converted = FourBitFormat.toSingleQuantized(dq, arena);
            assertEquals("nf4", converted.format().name());
            converted.format().validate(converted);
            assertArrayEquals(TestData.dequantize(dq), TestData.dequantize(converted), "identical bits");
            assertSame(single, FourBitFormat.toSingleQuantized(single, arena));
        }
    }

    @Test
    void layoutsDescribeTheFormats() {
        FormatLayout nf4 = new Nf4Format().layout();
        assertEquals(4, nf4.bitsPerElement());
        assertEquals(64, nf4.blockSize());
        assertTrue(nf4.blocksSpanRows());
        assertFalse(nf4.nestedScales());
        assertEquals(FormatLayout.ScaleType.F32, nf4.scaleType());
        assertEquals(List.of("data", "absmax"), nf4.parts());
        assertEquals(FormatLayout.ElementEncoding.CODE_BOOK_4BIT, nf4.elementEncoding());
        assertEquals(FormatLayout.Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST, nf4.packing());
        assertArrayEquals(FourBitCodeBook.NF4.toArray(), nf4.codeBook());
        assertArrayEquals(FourBitCodeBook.FP4.toArray(), new Fp4Format().layout().codeBook());
        FormatLayout dq = new Fp4DqFormat().layout();
        assertEquals(FormatLayout.ScaleType.U8_NESTED, dq.scaleType());
        assertTrue(dq.nestedScales());
        assertEquals(List.of("data", "absmax", "nested_absmax", "nested_quant_map"), dq.parts());
        assertEquals(List.of("nf4", "nf4-dq", "fp4", "fp4-dq"), formats().map(WeightFormat::name).toList());
        assertEquals(new Nf4Format(), new Nf4Format());
        assertFalse(new Nf4Format().equals(new Nf4DqFormat()));
        // [96, 64]: 3072 packed bytes + 96 blocks
        assertEquals(3072 + 96 * 4, new Nf4Format().byteSize(Shape.matrix(96, 64)));
        assertEquals(3072 + 96 + 4 + 1024, new Nf4DqFormat().byteSize(Shape.matrix(96, 64)));
    }

    @Test
    void validateNamesTheWeightAndWhatIsWrong() {
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = quantize(new Nf4Format(), TestData.gaussian(4, 64, 0.02, 27), 4, 64, arena);
            Map<String, MemorySegment> parts = new HashMap<>(w.parts());
            parts.put(WeightFormat.DATA, w.part(WeightFormat.DATA).asSlice(0, 127));
            assertMessage(new HostWeight("w", w.shape(), w.format(), parts, Map.of()),
                    "weight 'w' (nf4, shape [4, 64]) part 'data' has 127 bytes, expected 128");
            parts = new HashMap<>(w.parts());
            parts.remove(FourBitFormat.ABSMAX);
            assertMessage(new HostWeight("w", w.shape(), w.format(), parts, Map.of()), "has no part 'absmax'");
            w.part(FourBitFormat.ABSMAX).set(Le.F32, 8, Float.NaN);
            assertMessage(w, "part 'absmax' entry 2 is NaN");

            HostWeight dq = quantize(new Nf4DqFormat(), TestData.gaussian(4, 64, 0.02, 28), 4, 64, arena);
            assertMessage(new HostWeight("w", dq.shape(), dq.format(), dq.parts(), Map.of()), "no parameter 'offset'");
            assertMessage(new HostWeight("w", dq.shape(), dq.format(), dq.parts(), Map.of("offset", 0.1)),
                    "offset 0.1, expected a finite float32 value");
            assertMessage(new HostWeight("w", dq.shape(), new Nf4Format(), dq.parts(), dq.params()),
                    "part 'absmax' has 4 bytes, expected 16");
            InvalidWeightException e = assertThrows(InvalidWeightException.class, () -> new Fp4DqFormat().validate(dq));
            assertTrue(e.getMessage().contains("is in format nf4-dq"), e.getMessage());
        }
    }

    private static void assertMessage(HostWeight w, String expected) {
        InvalidWeightException e = assertThrows(InvalidWeightException.class, () -> w.format().validate(w));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
    }

    @Test
    void quantizeRefusesNonFiniteValues() {
        float[] m = TestData.gaussian(2, 64, 0.02, 29);
        m[70] = Float.POSITIVE_INFINITY;
        try (Arena arena = Arena.ofConfined()) {
            InvalidWeightException e = assertThrows(InvalidWeightException.class,
                    () -> quantize(new Nf4Format(), m, 2, 64, arena));
            assertEquals("cannot quantise weight 'w' [2, 64] to nf4: element [1, 6] is Infinity", e.getMessage());
        }
    }

    @Test
    void allZeroBlockDecodesToZero() {
        float[] m = TestData.gaussian(2, 64, 0.02, 30);
        Arrays.fill(m, 0, 64, 0f);
        try (Arena arena = Arena.ofConfined()) {
            for (FourBitFormat f : List.of(new Nf4Format(), new Fp4Format())) {
                HostWeight w = quantize(f, m, 2, 64, arena);
                assertEquals(0f, FourBitFormat.effectiveAbsmax(w)[0]);
                assertEquals(0, w.part(WeightFormat.DATA).get(ValueLayout.JAVA_BYTE, 0), "code 0, as bitsandbytes");
                float[] d = TestData.dequantize(w);
                for (int i = 0; i < 64; i++) {
                    assertEquals(0f, Math.abs(d[i]), f + " " + i); // NF4 gives -1 * 0 = -0.0, as bitsandbytes
                }
            }
        }
    }
}
