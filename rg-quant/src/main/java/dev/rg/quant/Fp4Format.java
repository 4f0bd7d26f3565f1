package dev.rg.quant;

/**
 * Format {@code fp4}: bitsandbytes FP4, blocks of 64 elements with a float32 absmax each.
 * See {@link FourBitFormat} for the layout and the reference dequantisation.
 */
public final class Fp4Format extends FourBitFormat {
    /** The format; every instance is equal. */
    public Fp4Format() {
        super(FourBitCodeBook.FP4, false);
    }
}
