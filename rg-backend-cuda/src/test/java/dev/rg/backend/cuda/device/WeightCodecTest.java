package dev.rg.backend.cuda.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.WeightFormats;
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
        assertTrue(WeightCodec.supportedFormats().containsAll(java.util.List.of("int8", "nf4")));
        // double quantisation nests the scales: not read by the kernels (the runtime keeps it on the host)
        Optional<WeightCodec> dq = WeightFormats.find("nf4-dq").flatMap(WeightCodec::of);
        assertFalse(dq.isPresent());
    }
}
