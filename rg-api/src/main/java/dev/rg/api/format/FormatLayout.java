package dev.rg.api.format;

import java.util.List;

/**
 * How a format lays out its bytes, so that a backend can decide whether (and how) to accelerate it without
 * reading the format's code. Every quantity refers to one row of the weight viewed as a matrix; blocks
 * never straddle rows unless {@link #blocksSpanRows()} says so.
 *
 * @param bitsPerElement   bits of storage per weight element (32, 16, 8, 4)
 * @param blockSize        elements sharing one scale, 0 for unscaled formats
 * @param elementEncoding  what an element's bits mean, e.g. {@code "ieee754-binary32"}, {@code "int8 symmetric"},
 *                         {@code "nf4 code book index"}
 * @param packing          how elements are packed in bytes, e.g. {@code "2 per byte, even element in the high nibble"}
 * @param scaleType        the type of the per-block scale
 * @param scalePart        name of the part holding the scales ({@code null} if unscaled)
 * @param nestedScales     whether the scales are themselves quantised (double quantisation)
 * @param blocksSpanRows   true when blocks run over the flattened tensor and may cross row ends
 *                         (bitsandbytes); false when every row starts a new block
 * @param parts            names of the parts a weight in this format carries
 */
public record FormatLayout(int bitsPerElement, int blockSize, String elementEncoding, String packing,
        ScaleType scaleType, String scalePart, boolean nestedScales, boolean blocksSpanRows, List<String> parts) {

    /** The type of per-block scales. */
    public enum ScaleType { NONE, F32, F16, BF16, U8_NESTED }

    public FormatLayout {
        parts = List.copyOf(parts);
    }
}
