package dev.rg.backend.cuda.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.FormatLayout.ElementEncoding;
import dev.rg.api.format.FormatLayout.Packing;
import dev.rg.api.format.FormatLayout.ScaleType;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.quant.FourBitFormat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Which formats the kernels read, decided from the SPI's FormatLayout and a bit-exact self-test. */
class WeightCodecTest {
    @Test
    void denseFormatsAlways() {
        assertEquals(WeightCodec.F32, WeightCodec.of(WeightFormats.f32()).orElseThrow().fmt());
        assertEquals(WeightCodec.BF16, WeightCodec.of(WeightFormats.bf16()).orElseThrow().fmt());
        assertEquals(WeightCodec.F16, WeightCodec.of(WeightFormats.f16()).orElseThrow().fmt());
        assertTrue(WeightCodec.supportedFormats().containsAll(java.util.List.of("f32", "bf16", "f16")));
    }

    @Test
    void rgQuantFormatsWhenInstalled() {
        Assumptions.assumeTrue(WeightFormats.find("int8").isPresent(), "skipped: rg-quant is not on the class path");
        WeightCodec int8 = WeightCodec.of(WeightFormats.byName("int8")).orElseThrow();
        assertEquals(WeightCodec.I8, int8.fmt());
        assertEquals(WeightCodec.F16, int8.auxFmt());
        assertEquals(32, int8.blockSize());
        WeightCodec nf4 = WeightCodec.of(WeightFormats.byName("nf4")).orElseThrow();
        assertEquals(WeightCodec.Q4, nf4.fmt());
        assertEquals(64, nf4.blockSize());
        assertEquals(-1.0f, nf4.codebook()[0]);
        assertEquals(0.0f, nf4.codebook()[7]);
        assertEquals(1.0f, nf4.codebook()[15]);
        org.junit.jupiter.api.Assertions.assertArrayEquals(WeightFormats.byName("fp4").layout().codeBook(),
                WeightCodec.of(WeightFormats.byName("fp4")).orElseThrow().codebook(), "the layout's code book");
        assertTrue(WeightCodec.supportedFormats().containsAll(java.util.List.of("int8", "nf4")));
        // double quantisation nests the scales: resolved once at upload, then the single-quantised kernels run it
        for (String name : List.of("nf4-dq", "fp4-dq")) {
            WeightCodec dq = WeightCodec.of(WeightFormats.byName(name)).orElseThrow();
            assertEquals(WeightCodec.Q4, dq.fmt());
            assertEquals(WeightCodec.F32, dq.auxFmt(), "uploaded as float32 scales");
            assertTrue(dq.nested());
            assertFalse(nf4.nested());
        }
        assertTrue(WeightCodec.supportedFormats().containsAll(List.of("nf4-dq", "fp4-dq")));
    }

    /**
     * A double-quantised weight made by the format's own quantiser (bitsandbytes' rules, random Gaussian values over
     * rows that cross 64-blocks and a 256-block group): what is uploaded for the kernels is the format's effective
     * absmax, and every element decodes to the format's own dequantised bits.
     */
    @Test
    void nestedScalesAreResolvedToTheFormatsOwnBits() {
        Assumptions.assumeTrue(WeightFormats.find("nf4-dq").isPresent(), "skipped: rg-quant is not on the class path");
        SplittableRandom r = new SplittableRandom(11);
        int rows = 37;
        int cols = 500; // 18,500 elements: 290 blocks of 64, two nested groups, blocks crossing row ends
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (r.nextGaussian() * 0.05 + (i % 97 == 0 ? 0.4 : 0));
        }
        for (String name : List.of("nf4-dq", "fp4-dq")) {
            WeightFormat f = WeightFormats.byName(name);
            WeightCodec codec = WeightCodec.of(f).orElseThrow();
            try (Arena arena = Arena.ofConfined()) {
                HostWeight w = f.quantize("w", Shape.matrix(rows, cols),
                        (row, dst) -> System.arraycopy(values, Math.toIntExact(row * cols), dst, 0, cols), arena);
                float[] expected = FourBitFormat.effectiveAbsmax(w);
                MemorySegment uploaded = codec.scalesForKernels(w, arena);
                assertEquals(expected.length * 4L, uploaded.byteSize(), name + ": one float32 per block");
                for (int b = 0; b < expected.length; b++) {
                    assertEquals(Float.floatToRawIntBits(expected[b]), Float.floatToRawIntBits(
                            uploaded.get(ValueLayout.JAVA_FLOAT_UNALIGNED, b * 4L)), name + " block " + b);
                }
                float[] row = new float[cols];
                for (int rr = 0; rr < rows; rr++) {
                    f.dequantizeRow(w, rr, row, 0);
                    for (int c = 0; c < cols; c++) {
                        assertEquals(Float.floatToRawIntBits(row[c]), Float.floatToRawIntBits(codec.decode(w, rr, c)),
                                name + " element (" + rr + ", " + c + ")");
                    }
                }
            }
        }
    }

    @Test
    void layoutsTheKernelsDoNotReadAreRefused() {
        SplittableRandom r = new SplittableRandom(3);
        // int8 with bf16 scales, 4-bit with f16 absmax or nested scales, 4-bit with the low nibble first
        assertNull(WeightCodec.candidate(new FormatLayout(8, 32, ElementEncoding.INT8_SYMMETRIC,
                Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN, ScaleType.BF16, "scale", false, false, List.of("data", "scale"), null)));
        assertNull(WeightCodec.candidate(new FormatLayout(4, 64, ElementEncoding.CODE_BOOK_4BIT,
                Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST, ScaleType.F16, "absmax", false, true, List.of("data", "absmax"),
                book(r))));
        assertNull(WeightCodec.candidate(new FormatLayout(4, 64, ElementEncoding.CODE_BOOK_4BIT,
                Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN, ScaleType.F32, "absmax", false, true, List.of("data", "absmax"),
                book(r))));
        assertNull(WeightCodec.candidate(new FormatLayout(8, 32, ElementEncoding.BF16,
                Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN, ScaleType.F16, "scale", false, false, List.of("data", "scale"), null)));
        // nested scales without the parts that resolve them, or with a part more than the kernels' upload knows of
        assertNull(WeightCodec.candidate(new FormatLayout(4, 64, ElementEncoding.CODE_BOOK_4BIT,
                Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST, ScaleType.U8_NESTED, "absmax", true, true,
                List.of("data", "absmax", "nested_absmax"), book(r))));
        assertNull(WeightCodec.candidate(new FormatLayout(4, 64, ElementEncoding.CODE_BOOK_4BIT,
                Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST, ScaleType.U8_NESTED, "absmax", true, true,
                List.of("data", "absmax", "nested_absmax", "nested_quant_map", "extra"), book(r))));
        assertTrue(WeightCodec.candidate(new FormatLayout(4, 64, ElementEncoding.CODE_BOOK_4BIT,
                Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST, ScaleType.U8_NESTED, "absmax", true, true,
                List.of("data", "absmax", "nested_absmax", "nested_quant_map"), book(r))).nested());
        float[] b = book(r);
        WeightCodec q4 = WeightCodec.candidate(new FormatLayout(4, 128, ElementEncoding.CODE_BOOK_4BIT,
                Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST, ScaleType.F32, "s", false, true, List.of("data", "s"), b));
        assertEquals(WeightCodec.Q4, q4.fmt());
        assertEquals(128, q4.blockSize());
        org.junit.jupiter.api.Assertions.assertArrayEquals(b, q4.codebook(), "the code book comes from the layout");
    }

    private static float[] book(SplittableRandom r) {
        float[] b = new float[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return b;
    }
}
