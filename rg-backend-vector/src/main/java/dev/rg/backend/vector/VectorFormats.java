package dev.rg.backend.vector;

import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.FormatLayout.Packing;
import dev.rg.api.format.FormatLayout.ScaleType;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.quant.FourBitFormat;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which weight formats the vector kernels read, decided from each format's {@link FormatLayout} alone (never from its
 * name) by an exhaustive {@code switch} over the element encoding: a new encoding does not compile here until this
 * backend decides, and a layout the kernels do not read (another block size, scale type or packing) is left out of
 * the capabilities, so the runtime runs it on the reference and says why. No Vector API type here: the provider
 * calls it before the incubator module is known to be present.
 */
final class VectorFormats {
    private VectorFormats() {}

    /** Elements per scale the int8 kernel reads ({@code Int8RowDot.BLOCK}). */
    static final int INT8_BLOCK = 32;
    /** Elements per absmax the 4-bit kernels read ({@code Nf4RowDot.BLOCK}). */
    static final int FOUR_BIT_BLOCK = 64;

    /** Why the kernels cannot read {@code f}, or null when they can. */
    static String unsupported(WeightFormat f) {
        FormatLayout l = f.layout();
        if (l == null) {
            return "the format describes no layout";
        }
        return switch (l.elementEncoding()) {
            case F32, BF16, F16 -> l.packing() == Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN && l.blockSize() == 0
                    && l.scaleType() == ScaleType.NONE ? null : "a dense encoding with blocks or scales";
            case INT8_SYMMETRIC -> l.packing() == Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN && l.blockSize() == INT8_BLOCK
                    && l.scaleType() == ScaleType.F16 && !l.blocksSpanRows() && !l.nestedScales() && l.scalePart() != null
                    ? null : "the int8 kernel reads blocks of " + INT8_BLOCK + " per row with f16 scales";
            case CODE_BOOK_4BIT -> {
                if (l.packing() != Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST || l.blockSize() != FOUR_BIT_BLOCK
                        || !l.blocksSpanRows() || l.scalePart() == null) {
                    yield "the 4-bit kernels read 2 codes per byte (high nibble first) in blocks of " + FOUR_BIT_BLOCK
                            + " over the flattened tensor";
                }
                yield switch (l.scaleType()) {
                    case F32 -> null;
                    // the nested absmax is resolved once at load by rg-quant's conversion, which only its formats have
                    case U8_NESTED -> f instanceof FourBitFormat ? null
                            : "nested 4-bit scales are resolved only for rg-quant's formats";
                    case NONE, F16, BF16 -> "the 4-bit kernels read f32 absmax";
                };
            }
        };
    }

    /** Names of the discovered formats the kernels read. */
    static Set<String> supported() {
        Set<String> out = new TreeSet<>();
        for (WeightFormat f : WeightFormats.all().values()) {
            if (unsupported(f) == null) {
                out.add(f.name());
            }
        }
        return out;
    }
}
