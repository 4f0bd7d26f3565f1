package dev.rg.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FourBitCodeBookTest {
    @Test
    void nf4TableIsBitsandbytesTable() {
        // the README's list (bnb functional.get_4bit_type("nf4")), printed as float32 shortest repr
        float[] expected = {-1.0f, -0.6961928f, -0.52507305f, -0.3949175f, -0.28444138f, -0.18477343f,
            -0.091050036f, 0.0f, 0.0795803f, 0.1609302f, 0.2461123f, 0.33791524f, 0.44070983f, 0.562617f,
            0.72295684f, 1.0f};
        assertArrayEquals(expected, FourBitCodeBook.NF4.toArray());
    }

    @Test
    void fp4TableIsGet4bitTypeFp4() {
        float[] magnitudes = {0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f}; // bnb's list before dividing by its max, 12
        for (int i = 0; i < 16; i++) {
            float expected = (i < 8 ? 1 : -1) * (magnitudes[i & 7] / 12f);
            assertEquals(expected == 0 ? 0f : expected, FourBitCodeBook.FP4.value(i), "code " + i);
        }
        assertEquals(0, Float.floatToRawIntBits(FourBitCodeBook.FP4.value(8)), "code 8 is +0.0 in get_4bit_type");
    }

    @ParameterizedTest
    @EnumSource(FourBitCodeBook.class)
    void everyEntryQuantisesToItself(FourBitCodeBook cb) {
        for (int k = 0; k < 16; k++) {
            int expected = cb == FourBitCodeBook.FP4 && k == 8 ? 0 : k; // +0.0 is code 0, not the "negative zero"
            assertEquals(expected, cb.quantize(cb.value(k)), cb + " code " + k);
        }
    }

    @ParameterizedTest
    @EnumSource(FourBitCodeBook.class)
    void roundsToTheNearestEntry(FourBitCodeBook cb) {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (r.nextDouble() * 2 - 1);
            float got = cb.value(cb.quantize(x));
            float best = Float.MAX_VALUE;
            for (int k = 0; k < 16; k++) {
                best = Math.min(best, Math.abs(cb.value(k) - x));
            }
            // thresholds are float32 constants, so a value within an ulp of a midpoint may go either way
            assertTrue(Math.abs(got - x) <= best + 2 * Math.ulp(x), cb + " x=" + x + " -> " + got);
        }
    }

    @Test
    void nf4ThresholdsAreTheCudaTreeWithStrictComparison() {
        // dQuantizeNF4: "if (x > 0.03979014977812767f) ... else ... return 0b0111"
        assertEquals(7, FourBitCodeBook.NF4.quantize(0.03979014977812767f));
        assertEquals(8, FourBitCodeBook.NF4.quantize(Math.nextUp(0.03979014977812767f)));
        assertEquals(0, FourBitCodeBook.NF4.quantize(-0.8480964004993439f));
        assertEquals(1, FourBitCodeBook.NF4.quantize(Math.nextUp(-0.8480964004993439f)));
        assertEquals(15, FourBitCodeBook.NF4.quantize(1.0000001f), "saturates like bnb's clamp");
        assertEquals(0, FourBitCodeBook.NF4.quantize(Float.NaN), "an all-zero block (0 * inf) gives code 0");
    }

    @Test
    void nf4CudaThresholdsDifferFromFloat32MidpointsAtFourTies() {
        // the README's "1 ulp at 4 of the 15 thresholds": one float above the midpoint at 8, below at 0, 12, 14
        FourBitCodeBook nf4 = FourBitCodeBook.NF4;
        for (int k = 0; k < 15; k++) {
            float mid = (nf4.value(k) + nf4.value(k + 1)) / 2;
            float threshold = switch (k) {
                case 8 -> Math.nextUp(mid);
                case 0, 12, 14 -> Math.nextDown(mid);
                default -> mid;
            };
            assertEquals(k, nf4.quantize(threshold), "on the threshold: the lower code (strict >), k=" + k);
            assertEquals(k + 1, nf4.quantize(Math.nextUp(threshold)), "just above: the upper code, k=" + k);
        }
    }

    @Test
    void fp4IsSignMagnitudeAsDQuantizeFp4() {
        FourBitCodeBook fp4 = FourBitCodeBook.FP4;
        assertEquals(4, fp4.quantize(0.3f));
        assertEquals(12, fp4.quantize(-0.3f));
        assertEquals(0, fp4.quantize(-0.0f), "-0.0 is not < 0");
        assertEquals(8, fp4.quantize(-0.001f), "small negatives keep their sign: the code of -0");
        assertEquals(1, fp4.quantize(Math.nextUp(0.00260417f)));
        assertEquals(0, fp4.quantize(0.00260417f));
        assertEquals(3, fp4.quantize(0.9f));
        assertEquals(11, fp4.quantize(-1.0f));
        assertEquals(0, fp4.quantize(Float.NaN));
    }

    @Test
    void fp4MagnitudeThresholdsAreStrictAtEachOfTheSeven() {
        // dQuantizeFP4's magnitude tree, in sorted order, and the code each bin above a threshold gets
        float[] thresholds = {0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f, 0.4166667f, 0.583333f, 0.8333333f};
        int[] codeOfBin = {0, 1, 6, 7, 4, 5, 2, 3};
        FourBitCodeBook fp4 = FourBitCodeBook.FP4;
        for (int k = 0; k < thresholds.length; k++) {
            assertEquals(codeOfBin[k], fp4.quantize(thresholds[k]), "on threshold " + k + ": the lower bin");
            assertEquals(codeOfBin[k + 1], fp4.quantize(Math.nextUp(thresholds[k])), "just above threshold " + k);
            assertEquals(codeOfBin[k + 1] + 8, fp4.quantize(-Math.nextUp(thresholds[k])), "negative, threshold " + k);
        }
    }

    @Test
    void quantTypeLookup() {
        assertEquals(FourBitCodeBook.NF4, FourBitCodeBook.ofQuantType("nf4"));
        assertEquals(FourBitCodeBook.FP4, FourBitCodeBook.ofQuantType("fp4"));
        assertEquals(null, FourBitCodeBook.ofQuantType("NF4"));
    }
}
