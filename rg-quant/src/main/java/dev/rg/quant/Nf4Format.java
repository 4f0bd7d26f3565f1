package dev.rg.quant;

/**
 * Format {@code nf4}: bitsandbytes NF4, blocks of 64 elements with a float32 absmax each.
 * See {@link FourBitFormat} for the layout and the reference dequantisation.
 */
public final class Nf4Format extends FourBitFormat {
    /** The format; every instance is equal. */
    public Nf4Format() {
        super(FourBitCodeBook.NF4, false);
    }
}
