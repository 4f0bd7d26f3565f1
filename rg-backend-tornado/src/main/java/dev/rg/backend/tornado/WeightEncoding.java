package dev.rg.backend.tornado;

import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.backend.tornado.kernels.RgKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * How each weight format is stored on the device and decoded by the kernels, with host-side decoders that are
 * checked against the format's own reference dequantisation when a weight is loaded (so a format whose semantics
 * differ from what the kernels assume is refused instead of computing wrong numbers). No TornadoVM types here.
 */
final class WeightEncoding {
    private WeightEncoding() {}

    /** The formats MATMUL and EMBED run natively. */
    static final Set<String> FORMATS = Set.of("f32", "bf16", "f16", "int8", "nf4", "nf4-dq", "fp4", "fp4-dq");

    /** bitsandbytes' NF4 code book (normalised N(0,1) quantiles), as in {@code dev.rg.quant.FourBitCodeBook}. */
    static final float[] NF4 = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };

    /** bitsandbytes' FP4 code book. */
    static final float[] FP4 = {
        0.0f, 0.0052083335f, 0.6666667f, 1.0f, 0.33333334f, 0.5f, 0.16666667f, 0.25f,
        0.0f, -0.0052083335f, -0.6666667f, -1.0f, -0.33333334f, -0.5f, -0.16666667f, -0.25f,
    };

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Storage kinds. */
    enum Kind { F32, DENSE16, INT8, FOUR_BIT }

    /** The storage kind of a format, or null when the kernels do not handle it. */
    static Kind kind(WeightFormat f) {
        FormatLayout l = f.layout();
        return switch (f.name()) {
            case "f32" -> Kind.F32;
            case "bf16", "f16" -> Kind.DENSE16;
            case "int8" -> l.blockSize() == RgKernels.INT8_BLOCK && l.scaleType() == FormatLayout.ScaleType.F16 ? Kind.INT8 : null;
            case "nf4", "fp4", "nf4-dq", "fp4-dq" -> l.blockSize() == RgKernels.FOUR_BIT_BLOCK && l.blocksSpanRows()
                    ? Kind.FOUR_BIT : null;
            default -> null;
        };
    }

    /** The kernel format code of a weight of {@code kind} in format {@code f}; {@code small} for f32 kept in sf. */
    static int code(WeightFormat f, Kind kind, boolean small) {
        return switch (kind) {
            case F32 -> small ? RgKernels.FMT_F32_SMALL : RgKernels.FMT_F32;
            case DENSE16 -> f.name().equals("bf16") ? RgKernels.FMT_BF16 : RgKernels.FMT_F16;
            case INT8 -> RgKernels.FMT_INT8;
            case FOUR_BIT -> f.name().startsWith("nf4") ? RgKernels.FMT_NF4 : RgKernels.FMT_FP4;
        };
    }

    /** The lookup table of the kernels: powers of two for the 16-bit decoders, then the two 4-bit code books. */
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
        System.arraycopy(NF4, 0, t, RgKernels.LUT_NF4, 16);
        System.arraycopy(FP4, 0, t, RgKernels.LUT_FP4, 16);
        return t;
    }

    /** Effective float32 absmax of every 64-block of a 4-bit weight, double quantisation resolved as bitsandbytes. */
    static float[] effectiveAbsmax(HostWeight w) {
        long n = w.shape().elementCount();
        int nb = Math.toIntExact((n + RgKernels.FOUR_BIT_BLOCK - 1) / RgKernels.FOUR_BIT_BLOCK);
        float[] out = new float[nb];
        MemorySegment absmax = w.part("absmax");
        if (!w.format().layout().nestedScales()) {
            for (int b = 0; b < nb; b++) {
                out[b] = absmax.get(F32, b * 4L);
            }
            return out;
        }
        MemorySegment nested = w.part("nested_absmax");
        MemorySegment map = w.part("nested_quant_map");
        float offset = (float) w.param("offset");
        for (int b = 0; b < nb; b++) {
            int code = absmax.get(ValueLayout.JAVA_BYTE, b) & 0xFF;
            float scaled = map.get(F32, code * 4L) * nested.get(F32, (b / 256) * 4L);
            out[b] = scaled + offset; // two roundings, no FMA: as bitsandbytes
        }
        return out;
    }

    /** Row {@code row} decoded as the kernels decode it (host mirror of {@link RgKernels#weightAt}). */
    static void decodeRow(HostWeight w, Kind kind, float[] absmax, long row, float[] dst) {
        int cols = Math.toIntExact(w.shape().lastDim());
        MemorySegment data = w.part(WeightFormat.DATA);
        long base = row * cols;
        float[] lut = LUT;
        for (int c = 0; c < cols; c++) {
            long i = base + c;
            dst[c] = switch (kind) {
                case F32 -> data.get(F32, i * 4);
                case DENSE16 -> {
                    int bits = data.get(I16, i * 2) & 0xFFFF;
                    yield w.format().name().equals("bf16") ? bf16(lut, bits) : f16(lut, bits);
                }
                case INT8 -> {
                    int blocks = (cols + RgKernels.INT8_BLOCK - 1) / RgKernels.INT8_BLOCK;
                    int scale = w.part("scale").get(I16, (row * blocks + c / RgKernels.INT8_BLOCK) * 2) & 0xFFFF;
                    yield data.get(ValueLayout.JAVA_BYTE, i) * f16(lut, scale);
                }
                case FOUR_BIT -> {
                    int packed = data.get(ValueLayout.JAVA_BYTE, i >>> 1) & 0xFF;
                    int code = (i & 1) == 0 ? packed >>> 4 : packed & 0x0F;
                    float[] book = w.format().name().startsWith("nf4") ? NF4 : FP4;
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
