package dev.rg.quant;

/**
 * Format {@code nf4-dq}: bitsandbytes NF4 with double quantisation (u8 absmax codes, a float32 nested absmax
 * per 256 blocks, an offset).
 * See {@link FourBitFormat} for the layout and the reference dequantisation.
 */
public final class Nf4DqFormat extends FourBitFormat {
    /** The format; every instance is equal. */
    public Nf4DqFormat() {
        super(FourBitCodeBook.NF4, true);
    }
}
