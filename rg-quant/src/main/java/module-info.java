/**
 * Quantised weight formats for rg, as plugins of the {@code dev.rg.api} SPI.
 *
 * <ul>
 *   <li>{@code int8}: weight-only symmetric int8, 32 elements per f16 scale ({@link dev.rg.quant.Int8Format});</li>
 *   <li>{@code nf4}, {@code nf4-dq}, {@code fp4}, {@code fp4-dq}: the bitsandbytes 4-bit formats, with and without
 *       double quantisation of the block scales ({@link dev.rg.quant.FourBitFormat});</li>
 *   <li>the {@code bitsandbytes} checkpoint adapter, which assembles those weights from the tensors that
 *       Hugging Face transformers + bitsandbytes save ({@link dev.rg.quant.bnb.BitsAndBytesAdapter}).</li>
 * </ul>
 *
 * Every {@code provides} below is mirrored in {@code META-INF/services}, because the tests run on the class path.
 */
module dev.rg.quant {
    requires transitive dev.rg.api;

    exports dev.rg.quant;
    exports dev.rg.quant.bnb;

    provides dev.rg.api.format.WeightFormat with
            dev.rg.quant.Int8Format,
            dev.rg.quant.Nf4Format,
            dev.rg.quant.Nf4DqFormat,
            dev.rg.quant.Fp4Format,
            dev.rg.quant.Fp4DqFormat;
    provides dev.rg.api.format.CheckpointAdapter with
            dev.rg.quant.bnb.BitsAndBytesAdapter;
}
