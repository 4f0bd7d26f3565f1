package dev.rg.quant;

/**
 * Format {@code fp4-dq}: bitsandbytes FP4 with double quantisation (u8 absmax codes, a float32 nested absmax
 * per 256 blocks, an offset).
 * See {@link FourBitFormat} for the layout and the reference dequantisation.
 */
public final class Fp4DqFormat extends FourBitFormat {
    /** The format; every instance is equal. */
    public Fp4DqFormat() {
        super(FourBitCodeBook.FP4, true);
    }
}
