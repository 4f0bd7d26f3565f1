package dev.rg.quant;

/**
 * The two 4-bit code books of bitsandbytes: what a 4-bit code means and how a scaled value is rounded to one.
 *
 * <p>A block of 64 weights is scaled by {@code 1/absmax} into [-1, 1]; each scaled value is then replaced by
 * the index of a code-book entry. Dequantisation is {@code value(code) * absmax}, one float32 multiply.
 *
 * <p>The tables are the float32 values that bitsandbytes' {@code functional.get_4bit_type} returns (and that a
 * checkpoint stores as {@code P.weight.quant_map}); bitsandbytes dequantises with exactly these values on CUDA
 * ({@code nf4_dequantization_lut}, {@code fp4_dequantization_lut}) and in its PyTorch backend
 * ({@code _get_4bit_code}). Rounding follows bitsandbytes' CUDA kernels {@code dQuantizeNF4} and
 * {@code dQuantizeFP4} (the code that made the public 4-bit checkpoints): a value goes to the higher code only
 * when it is strictly greater than the decision threshold between two codes.
 */
public enum FourBitCodeBook {
    /**
     * NormalFloat4: 16 quantiles of N(0,1) normalised to [-1, 1], sorted, code 7 is exactly 0.
     * Rounding thresholds are the CUDA kernel's float constants: the exact midpoints of neighbouring entries,
     * written as decimals. Four of those midpoints (thresholds 0, 8, 12, 14) are float32 rounding ties, where the
     * constant lands one ulp away from the float32 midpoint {@code (v[k] + v[k+1]) / 2} that bitsandbytes'
     * PyTorch backend compares against; only a scaled value equal to one of those 4 floats is coded differently
     * by the two, and rg follows CUDA, the kernel that made the public checkpoints.
     */
    NF4("nf4",
            new float[] {
                -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
                -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
                0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
            },
            new float[] {
                -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
                -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
                0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
                0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f,
            }),

    /**
     * bitsandbytes FP4 (E2M1 with a bias chosen by bitsandbytes): bit 3 is the sign, bits 0-2 select one of
     * {0, 1/192, 2/3, 1, 1/3, 1/2, 1/6, 1/4}. Code 8 is +0.0 in the stored table (Python's {@code -0} is the
     * integer 0); bitsandbytes' CUDA kernel returns -0.0 for it, which is numerically equal.
     */
    FP4("fp4",
            new float[] {
                0.0f, 0.0052083335f, 0.6666667f, 1.0f, 0.33333334f, 0.5f, 0.16666667f, 0.25f,
                0.0f, -0.0052083335f, -0.6666667f, -1.0f, -0.33333334f, -0.5f, -0.16666667f, -0.25f,
            },
            // magnitude thresholds of dQuantizeFP4, sorted; see FP4_BIN_TO_CODE
            new float[] {0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f, 0.4166667f, 0.583333f, 0.8333333f});

    /** For FP4: magnitude bin (number of thresholds below |x|) to code without the sign bit. */
    private static final int[] FP4_BIN_TO_CODE = {0, 1, 6, 7, 4, 5, 2, 3};

    private final String formatName;
    private final float[] table;
    private final float[] thresholds;

    FourBitCodeBook(String formatName, float[] table, float[] thresholds) {
        if (thresholds.length != 15 && thresholds.length != 7) {
            throw new IllegalArgumentException("countBelow decides among 15 or 7 thresholds, not " + thresholds.length);
        }
        this.formatName = formatName;
        this.table = table;
        this.thresholds = thresholds;
    }

    /** The quant type as bitsandbytes spells it: {@code "nf4"} or {@code "fp4"}. */
    public String quantType() {
        return formatName;
    }

    /** The value of code {@code code} (0..15). */
    public float value(int code) {
        return table[code];
    }

    /** A copy of the 16 values, indexed by code. */
    public float[] toArray() {
        return table.clone();
    }

    /** The table itself, for the hot loops of this package (never handed out). */
    float[] table() {
        return table;
    }

    /**
     * The code of a value already scaled by {@code 1/absmax}, rounded as bitsandbytes' CUDA kernel does.
     * NaN (an all-zero block scaled by {@code 0 * (1/0)}) gives code 0, as there.
     */
    public int quantize(float scaled) {
        if (this == NF4) {
            return countBelow(thresholds, scaled);
        }
        // FP4 is sign-magnitude: the sign comes from "x < 0", so -0.0 and NaN are positive, as in dQuantizeFP4.
        int sign = scaled < 0 ? 8 : 0;
        return FP4_BIN_TO_CODE[countBelow(thresholds, Math.abs(scaled))] + sign;
    }

    /**
     * Number of (sorted) thresholds strictly below x. Both tables have 2^m - 1 thresholds (15 and 7), so this is a
     * complete decision tree of "x > t" tests, written out without branches (C2 turns each level into a conditional
     * move): each level adds half of the remaining range when x lies above its middle threshold. A binary search
     * with branches computes the same count but mispredicts about half its tests on real weights, which land
     * anywhere in the table: quantising a 2B model to NF4 spent most of its time there (30 ns per weight in a
     * scratch program, 6 ns with this and whole-byte writes). NaN compares false everywhere and gives 0, as a search
     * would.
     */
    private static int countBelow(float[] sorted, float x) {
        int c = 0;
        if (sorted.length == 15) {
            c = x > sorted[7] ? 8 : 0;
        }
        c += x > sorted[c + 3] ? 4 : 0;
        c += x > sorted[c + 1] ? 2 : 0;
        c += x > sorted[c] ? 1 : 0;
        return c;
    }

    /** The code book of a bitsandbytes quant type ({@code "nf4"} or {@code "fp4"}), or null. */
    public static FourBitCodeBook ofQuantType(String quantType) {
        for (FourBitCodeBook c : values()) {
            if (c.formatName.equals(quantType)) {
                return c;
            }
        }
        return null;
    }
}
