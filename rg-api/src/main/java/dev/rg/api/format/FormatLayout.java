package dev.rg.api.format;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How a format lays out its bytes, so that a backend can decide whether (and how) to accelerate it without
 * reading the format's code. Every quantity refers to one row of the weight viewed as a matrix; blocks
 * never straddle rows unless {@link #blocksSpanRows()} says so.
 *
 * <p>A backend decides with an exhaustive {@code switch} over {@link #elementEncoding()} (no {@code default}), so a
 * new encoding is a compile error in every backend until each has decided what to do with it; a combination a
 * backend does not run (another block size, scale type, packing) is left out of its capabilities and falls back to
 * the reference, never guessed from the format's name.
 *
 * @param bitsPerElement   bits of storage per weight element (32, 16, 8, 4)
 * @param blockSize        elements sharing one scale, 0 for unscaled formats
 * @param elementEncoding  what an element's bits mean
 * @param packing          how elements are packed in bytes
 * @param scaleType        the type of the per-block scale
 * @param scalePart        name of the part holding the scales ({@code null} if unscaled)
 * @param nestedScales     whether the scales are themselves quantised (double quantisation)
 * @param blocksSpanRows   true when blocks run over the flattened tensor and may cross row ends
 *                         (bitsandbytes); false when every row starts a new block
 * @param parts            names of the parts a weight in this format carries
 * @param codeBook         for {@link ElementEncoding#CODE_BOOK_4BIT}: the 16 values the codes stand for (before the
 *                         block scale); empty for every other encoding. Copied in, and copied out by the accessor.
 */
public record FormatLayout(int bitsPerElement, int blockSize, ElementEncoding elementEncoding, Packing packing,
        ScaleType scaleType, String scalePart, boolean nestedScales, boolean blocksSpanRows, List<String> parts,
        float[] codeBook) {

    /** What the bits of one element mean. Each has a stable numeric {@link #code()} from {@link FormatCodes}. */
    public enum ElementEncoding {
        /** IEEE 754 binary32. */
        F32(FormatCodes.F32, "IEEE 754 binary32"),
        /** bfloat16: the upper 16 bits of a binary32. */
        BF16(FormatCodes.BF16, "bfloat16"),
        /** IEEE 754 binary16. */
        F16(FormatCodes.F16, "IEEE 754 binary16"),
        /** Signed two's-complement bytes in -127..127, value = code x block scale. */
        INT8_SYMMETRIC(FormatCodes.INT8_SYMMETRIC, "int8 symmetric (-127..127) x block scale"),
        /** 4-bit indices into a 16-entry {@link #codeBook() code book}, value = codeBook[code] x block scale. */
        CODE_BOOK_4BIT(FormatCodes.CODE_BOOK_4BIT, "4-bit code-book index x block scale");

        private final int code;
        private final String description;

        ElementEncoding(int code, String description) {
            this.code = code;
            this.description = description;
        }

        /** The kernel code of this encoding ({@link FormatCodes}). */
        public int code() {
            return code;
        }

        /** A human-readable description, for listings; never for deciding anything. */
        public String description() {
            return description;
        }
    }

    /** How elements are packed into bytes. */
    public enum Packing {
        /** Whole little-endian elements one after another (32-, 16- and 8-bit encodings). */
        ONE_PER_ELEMENT_LITTLE_ENDIAN("one element after another, little-endian"),
        /** Two 4-bit codes per byte, the even element in the high nibble. */
        TWO_PER_BYTE_HIGH_NIBBLE_FIRST("2 per byte, even element in the high nibble");

        private final String description;

        Packing(String description) {
            this.description = description;
        }

        /** A human-readable description, for listings; never for deciding anything. */
        public String description() {
            return description;
        }
    }

    /**
     * The type of per-block scales. {@code U8_NESTED}: one unsigned byte per block, a code into a second-level table
     * (bitsandbytes' double quantisation; {@link NestedScales} defines the parts it needs and resolves them).
     */
    public enum ScaleType { NONE, F32, F16, BF16, U8_NESTED }

    private static final float[] NO_CODE_BOOK = new float[0];

    public FormatLayout {
        Objects.requireNonNull(elementEncoding, "elementEncoding");
        Objects.requireNonNull(packing, "packing");
        Objects.requireNonNull(scaleType, "scaleType");
        parts = List.copyOf(parts);
        codeBook = codeBook == null ? NO_CODE_BOOK : codeBook.clone();
        boolean needsBook = elementEncoding == ElementEncoding.CODE_BOOK_4BIT;
        if (needsBook && codeBook.length != 16) {
            throw new IllegalArgumentException("a 4-bit code-book layout needs 16 code-book values, got " + codeBook.length);
        }
        if (!needsBook && codeBook.length != 0) {
            throw new IllegalArgumentException("only a 4-bit code-book layout has a code book, not " + elementEncoding);
        }
    }

    /** The layout of an unscaled dense encoding in the single part {@link WeightFormat#DATA}. */
    public static FormatLayout dense(ElementEncoding encoding) {
        int bits = switch (encoding) {
            case F32 -> 32;
            case BF16, F16 -> 16;
            case INT8_SYMMETRIC, CODE_BOOK_4BIT -> throw new IllegalArgumentException(encoding + " is not a dense encoding");
        };
        return new FormatLayout(bits, 0, encoding, Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN, ScaleType.NONE, null, false,
                false, List.of(WeightFormat.DATA), null);
    }

    /** A copy of the 16 code-book values of a {@link ElementEncoding#CODE_BOOK_4BIT} layout; empty otherwise. */
    @Override
    public float[] codeBook() {
        return codeBook.clone();
    }

    /** Whether this layout has a code book. */
    public boolean hasCodeBook() {
        return codeBook.length != 0;
    }

    /** One readable line, e.g. for {@code rg info}: encoding, packing, blocks and scales. */
    public String describe() {
        StringBuilder s = new StringBuilder(elementEncoding.description()).append("; ").append(packing.description());
        if (blockSize > 0) {
            s.append("; blocks of ").append(blockSize).append(blocksSpanRows ? " over the flattened tensor" : " per row")
                    .append(", ").append(scaleType.name().toLowerCase(Locale.ROOT)).append(" scales in '")
                    .append(scalePart).append('\'');
        }
        if (codeBook.length != 0) {
            s.append("; code book ").append(Arrays.toString(codeBook));
        }
        return s.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FormatLayout l && l.bitsPerElement == bitsPerElement && l.blockSize == blockSize
                && l.elementEncoding == elementEncoding && l.packing == packing && l.scaleType == scaleType
                && Objects.equals(l.scalePart, scalePart) && l.nestedScales == nestedScales
                && l.blocksSpanRows == blocksSpanRows && l.parts.equals(parts) && Arrays.equals(l.codeBook, codeBook);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bitsPerElement, blockSize, elementEncoding, packing, scaleType, scalePart, nestedScales,
                blocksSpanRows, parts) * 31 + Arrays.hashCode(codeBook);
    }

    @Override
    public String toString() {
        return "FormatLayout[" + bitsPerElement + " bits, " + describe() + ", parts " + parts
                + (nestedScales ? ", nested scales" : "") + "]";
    }
}
