package dev.rg.backend.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Availability;
import dev.rg.api.format.Floats;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.backend.tornado.kernels.RgKernels;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** Host-side checks of the pieces that need no device: the 16-bit decoders, the arena allocator, the probe. */
class DecodeAndArenaTest {
    private static final FloatArray LUT = FloatArray.fromArray(WeightEncoding.lut());

    @Test
    void bf16DecodeIsExactForEveryFiniteValue() {
        for (int b = 0; b < 65536; b++) {
            float want = Floats.bf16ToFloat((short) b);
            float got = RgKernels.bf16(LUT, b);
            if (Float.isNaN(want)) {
                assertTrue(Float.isInfinite(got), "NaN bits " + Integer.toHexString(b) + " decode as infinity");
            } else {
                assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), "bf16 bits " + Integer.toHexString(b));
            }
        }
    }

    @Test
    void f16DecodeIsExactForEveryFiniteValue() {
        for (int b = 0; b < 65536; b++) {
            float want = Floats.f16ToFloat((short) b);
            if (!Float.isFinite(want)) {
                continue; // never in a valid weight or int8 scale
            }
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(RgKernels.f16(LUT, b)),
                    "f16 bits " + Integer.toHexString(b));
        }
    }

    @Test
    void formatsAreDecidedFromTheirLayoutsAndCodeBooksComeFromThem() {
        float[] lut = WeightEncoding.lut();
        for (String name : new String[] {"f32", "bf16", "f16", "int8", "nf4", "nf4-dq", "fp4", "fp4-dq"}) {
            WeightFormat f = WeightFormats.byName(name);
            WeightEncoding.Kind kind = WeightEncoding.kind(f);
            assertTrue(kind != null && WeightEncoding.FORMATS.contains(name), name);
            if (kind == WeightEncoding.Kind.FOUR_BIT) {
                int at = WeightEncoding.code(f, kind, false) == RgKernels.FMT_CODE_BOOK_A ? RgKernels.LUT_CODE_BOOK_A
                        : RgKernels.LUT_CODE_BOOK_B;
                assertArrayEquals(f.layout().codeBook(), Arrays.copyOfRange(lut, at, at + 16), name);
            }
        }
        assertNotEquals(WeightEncoding.code(WeightFormats.byName("nf4"), WeightEncoding.Kind.FOUR_BIT, false),
                WeightEncoding.code(WeightFormats.byName("fp4"), WeightEncoding.Kind.FOUR_BIT, false));
        assertEquals(RgKernels.FMT_BF16, WeightEncoding.code(WeightFormats.bf16(), WeightEncoding.Kind.DENSE16, false));
        assertEquals(RgKernels.FMT_F16, WeightEncoding.code(WeightFormats.f16(), WeightEncoding.Kind.DENSE16, false));
    }

    @Test
    void arenaAllocatorReusesAndCoalesces() {
        ArenaAllocator a = new ArenaAllocator(1024);
        int x = a.allocate(100);
        int y = a.allocate(200);
        int z = a.allocate(300);
        assertEquals(0, x);
        assertEquals(112, y);
        assertEquals(320, z);
        assertEquals(-1, a.allocate(500));
        a.free(y, 200);
        a.free(x, 100);
        assertEquals(0, a.allocate(300)); // the two freed neighbours merged
        a.grow(4096);
        assertEquals(624, a.allocate(3000));
        assertEquals(3632, a.highWater());
    }

    @Test
    void probeSaysWhyOrWhat() {
        Availability a = new TornadoBackendProvider().probe();
        assertTrue(!a.reason().isBlank());
        // the test JVM runs with TornadoVM's flags and an OpenCL driver (see the pom): the probe must agree
        assertTrue(a.available(), a.reason());
    }

    @Test
    void theProbeClassifiesTheDeviceFromTheDrivers() {
        assertEquals(dev.rg.api.backend.DeviceClass.CPU, TornadoBackendProvider.deviceClass(java.util.List.of("pocl.icd"), false, false));
        assertEquals(dev.rg.api.backend.DeviceClass.CPU, TornadoBackendProvider.deviceClass(java.util.List.of("pocl.icd"), true, false),
                "a PTX build without the NVIDIA driver still runs on PoCL");
        assertEquals(dev.rg.api.backend.DeviceClass.GPU, TornadoBackendProvider.deviceClass(java.util.List.of("pocl.icd"), true, true));
        assertEquals(dev.rg.api.backend.DeviceClass.GPU,
                TornadoBackendProvider.deviceClass(java.util.List.of("nvidia.icd", "pocl.icd"), false, false));
        assertEquals(dev.rg.api.backend.DeviceClass.CPU, TornadoBackendProvider.deviceClass(java.util.List.of(), false, false));
        // on this machine (PoCL only) the provider must say CPU, so auto selection ranks it below vector
        Availability a = new TornadoBackendProvider().probe();
        assertTrue(a.available(), a.reason());
        assertEquals(dev.rg.api.backend.DeviceClass.CPU, a.device(), a.reason());
    }
}
