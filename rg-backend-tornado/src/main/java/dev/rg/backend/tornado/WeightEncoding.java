package dev.rg.backend.tornado;

import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.NestedScales;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.backend.tornado.kernels.RgKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import dev.rg.api.format.WeightFormats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How each weight format is stored on the device and decoded by the kernels, with host-side decoders that are
 * checked against the format's own reference dequantisation when a weight is loaded (so a format whose semantics
 * differ from what the kernels assume is refused instead of computing wrong numbers). No TornadoVM types here.
 */
final class WeightEncoding {
    private WeightEncoding() {}

    /**
     * The 4-bit code books the kernels hold (two slots in the lookup table): the distinct code books of the
     * discovered 4-bit formats, taken from their layouts, in the order of the formats' names (bitsandbytes' fp4 and
     * nf4 with the formats of rg-quant). A third distinct code book has no slot: its formats run on the reference.
     */
    static final List<float[]> CODE_BOOKS = codeBooks();

    /** The discovered formats MATMUL and EMBED run natively. */
    static final Set<String> FORMATS = supported();

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Storage kinds. */
    enum Kind { F32, DENSE16, INT8, FOUR_BIT }

    private static List<float[]> codeBooks() {
        List<float[]> books = new ArrayList<>();
        for (WeightFormat f : new TreeMap<>(WeightFormats.all()).values()) {
            FormatLayout l = f.layout();
            if (l != null && l.hasCodeBook() && books.size() < 2
                    && books.stream().noneMatch(b -> Arrays.equals(b, l.codeBook()))) {
                books.add(l.codeBook());
            }
        }
        return List.copyOf(books);
    }

    private static Set<String> supported() {
        Set<String> out = new TreeSet<>();
        for (WeightFormat f : WeightFormats.all().values()) {
            if (kind(f) != null) {
                out.add(f.name());
            }
        }
        return Set.copyOf(out);
    }

    /** The slot of a code book in {@link #CODE_BOOKS}, or -1. */
    private static int slot(float[] book) {
        for (int i = 0; i < CODE_BOOKS.size(); i++) {
            if (Arrays.equals(CODE_BOOKS.get(i), book)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The storage kind of a format, decided from its layout by an exhaustive switch over the element encoding, or
     * null when the kernels do not read that layout (the runtime then runs the format on the reference).
     */
    static Kind kind(WeightFormat f) {
        FormatLayout l = f.layout();
        if (l == null) {
            return null;
        }
        boolean onePerElement = l.packing() == FormatLayout.Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN;
        return switch (l.elementEncoding()) {
            case F32 -> onePerElement && l.scaleType() == FormatLayout.ScaleType.NONE ? Kind.F32 : null;
            case BF16, F16 -> onePerElement && l.scaleType() == FormatLayout.ScaleType.NONE ? Kind.DENSE16 : null;
            case INT8_SYMMETRIC -> onePerElement && l.blockSize() == RgKernels.INT8_BLOCK && !l.blocksSpanRows()
                    && l.scaleType() == FormatLayout.ScaleType.F16 && l.scalePart() != null ? Kind.INT8 : null;
            case CODE_BOOK_4BIT -> {
                boolean scales = switch (l.scaleType()) {
                    case F32 -> true;
                    case U8_NESTED -> NestedScales.describes(l); // resolved on the host at load
                    case NONE, F16, BF16 -> false;
                };
                yield scales && l.packing() == FormatLayout.Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST
                        && l.blockSize() == RgKernels.FOUR_BIT_BLOCK && l.blocksSpanRows() && l.scalePart() != null
                        && slot(l.codeBook()) >= 0 ? Kind.FOUR_BIT : null;
            }
        };
    }

    /** The kernel format code of a weight of {@code kind} in format {@code f}; {@code small} for f32 kept in sf. */
    static int code(WeightFormat f, Kind kind, boolean small) {
        return switch (kind) {
            case F32 -> small ? RgKernels.FMT_F32_SMALL : RgKernels.FMT_F32;
            case DENSE16 -> f.layout().elementEncoding() == FormatLayout.ElementEncoding.BF16 ? RgKernels.FMT_BF16
                    : RgKernels.FMT_F16;
            case INT8 -> RgKernels.FMT_INT8;
            case FOUR_BIT -> slot(f.layout().codeBook()) == 0 ? RgKernels.FMT_CODE_BOOK_A : RgKernels.FMT_CODE_BOOK_B;
        };
    }

    /** The lookup table of the kernels: powers of two for the 16-bit decoders, then the 4-bit code books. */
    static float[] lut() {
        float[] t = new float[RgKernels.LUT_SIZE];
        for (int hi = 0; hi < 512; hi++) { // bf16: sign (1) + exponent (8); value = t * (128 + mantissa)
            int e = hi & 0xFF;
            float v = Math.scalb(1.0f, (e == 0 ? 1 : e) - 127 - 7);
            t[RgKernels.LUT_BF16 + hi] = (hi & 0x100) != 0 ? -v : v;
        }
        for (int hi = 0; hi < 64; hi++) { // f16: sign (1) + exponent (5); value = t * (1024 + mantissa)
            int e = hi & 0x1F;
            float v = Math.scalb(1.0f, (e == 0 ? 1 : e) - 15 - 10);
            t[RgKernels.LUT_F16 + hi] = (hi & 0x20) != 0 ? -v : v;
        }
        int[] slots = {RgKernels.LUT_CODE_BOOK_A, RgKernels.LUT_CODE_BOOK_B};
        for (int i = 0; i < CODE_BOOKS.size(); i++) {
            System.arraycopy(CODE_BOOKS.get(i), 0, t, slots[i], 16);
        }
        return t;
    }

    /** Effective float32 absmax of every 64-block of a 4-bit weight, double quantisation resolved as bitsandbytes. */
    static float[] effectiveAbsmax(HostWeight w) {
        long n = w.shape().elementCount();
        int nb = Math.toIntExact((n + RgKernels.FOUR_BIT_BLOCK - 1) / RgKernels.FOUR_BIT_BLOCK);
        FormatLayout l = w.format().layout();
        if (l.scaleType() == FormatLayout.ScaleType.U8_NESTED) {
            return NestedScales.resolve(w, nb);
        }
        MemorySegment absmax = w.part(l.scalePart());
        float[] out = new float[nb];
        for (int b = 0; b < nb; b++) {
            out[b] = absmax.get(F32, b * 4L);
        }
        return out;
    }

    /** Row {@code row} decoded as the kernels decode it (host mirror of {@link RgKernels#weightAt}). */
    static void decodeRow(HostWeight w, Kind kind, float[] absmax, long row, float[] dst) {
        int cols = Math.toIntExact(w.shape().lastDim());
        MemorySegment data = w.part(WeightFormat.DATA);
        long base = row * cols;
        float[] lut = LUT;
        FormatLayout layout = w.format().layout();
        boolean bf16 = layout.elementEncoding() == FormatLayout.ElementEncoding.BF16;
        float[] book = layout.codeBook();
        String scalePart = layout.scalePart();
        for (int c = 0; c < cols; c++) {
            long i = base + c;
            dst[c] = switch (kind) {
                case F32 -> data.get(F32, i * 4);
                case DENSE16 -> {
                    int bits = data.get(I16, i * 2) & 0xFFFF;
                    yield bf16 ? bf16(lut, bits) : f16(lut, bits);
                }
                case INT8 -> {
                    int blocks = (cols + RgKernels.INT8_BLOCK - 1) / RgKernels.INT8_BLOCK;
                    int scale = w.part(scalePart).get(I16, (row * blocks + c / RgKernels.INT8_BLOCK) * 2) & 0xFFFF;
                    yield data.get(ValueLayout.JAVA_BYTE, i) * f16(lut, scale);
                }
                case FOUR_BIT -> {
                    int packed = data.get(ValueLayout.JAVA_BYTE, i >>> 1) & 0xFF;
                    int code = (i & 1) == 0 ? packed >>> 4 : packed & 0x0F;
                    yield book[code] * absmax[(int) (i / RgKernels.FOUR_BIT_BLOCK)];
                }
            };
        }
    }

    private static final float[] LUT = lut();

    static float bf16(float[] lut, int bits) {
        int hi = bits >>> 7;
        int e = hi & 0xFF;
        return lut[RgKernels.LUT_BF16 + hi] * ((e == 0 ? 0 : 128) + (bits & 0x7F));
    }

    static float f16(float[] lut, int bits) {
        int hi = bits >>> 10;
        int e = hi & 0x1F;
        return lut[RgKernels.LUT_F16 + hi] * ((e == 0 ? 0 : 1024) + (bits & 0x3FF));
    }

    /**
     * Checks the kernels' decoding of a few rows against the format's reference dequantisation, bit for bit.
     *
     * @throws IllegalArgumentException naming the weight and the first differing element
     */
    static void verify(HostWeight w, Kind kind, float[] absmax) {
        long rows = w.shape().rows();
        int cols = Math.toIntExact(w.shape().lastDim());
        if (rows == 0 || cols == 0) {
            return;
        }
        float[] mine = new float[cols];
        float[] ref = new float[cols];
        for (long row : new long[] {0, rows / 2, rows - 1}) {
            decodeRow(w, kind, absmax, row, mine);
            w.format().dequantizeRow(w, row, ref, 0);
            for (int c = 0; c < cols; c++) {
                boolean same = Float.floatToIntBits(mine[c]) == Float.floatToIntBits(ref[c])
                        || (mine[c] == ref[c]) // +0.0 / -0.0
                        || (Float.isNaN(ref[c]) && Float.isInfinite(mine[c]));
                if (!same) {
                    throw new IllegalArgumentException("weight '" + w.name() + "' (" + w.format().name() + "): the tornado "
                            + "kernels would decode element [" + row + ", " + c + "] as " + mine[c] + " but the format's "
                            + "reference dequantisation gives " + ref[c]);
                }
            }
        }
    }
}
