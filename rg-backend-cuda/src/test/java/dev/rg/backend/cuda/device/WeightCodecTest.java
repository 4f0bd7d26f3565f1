package dev.rg.backend.cuda.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.FormatLayout.ElementEncoding;
import dev.rg.api.format.FormatLayout.Packing;
import dev.rg.api.format.FormatLayout.ScaleType;
import dev.rg.api.format.WeightFormats;
import java.util.List;
import java.util.SplittableRandom;
import java.util.Optional;
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
        // double quantisation nests the scales: not read by the kernels (the runtime keeps it on the host)
        Optional<WeightCodec> dq = WeightFormats.find("nf4-dq").flatMap(WeightCodec::of);
        assertFalse(dq.isPresent());
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
