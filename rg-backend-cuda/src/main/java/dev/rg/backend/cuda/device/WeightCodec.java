package dev.rg.backend.cuda.device;

import dev.rg.api.format.FormatCodes;
import dev.rg.api.format.FormatLayout;
import dev.rg.api.format.NestedScales;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How the device kernels read a weight format, decided from the format's {@link FormatLayout} (the SPI's
 * description of its bytes) by an exhaustive {@code switch} over its element encoding, so that quantised formats
 * from plugins ({@code rg-quant}'s {@code int8} and {@code nf4}) run natively without this module depending on them
 * at compile time, and a new encoding does not compile here until this backend decides what to do with it:
 * <ul>
 *   <li>dense {@code f32}, {@code bf16}, {@code f16}: one element after another, little-endian, unscaled;</li>
 *   <li>int8 symmetric: one byte per element, one f16 or f32 scale per block of B elements of a row (any B);</li>
 *   <li>4-bit code book in the bitsandbytes layout (NF4, FP4): codes over the flattened tensor, the even element in
 *       the high nibble, one f32 absmax per block of B elements (blocks may cross rows), the 16 values taken from
 *       the layout's code book. Nested (double-quantised, {@code nf4-dq}) scales are resolved to that f32 absmax
 *       once, on the host, when the weight is uploaded ({@link NestedScales}, bit for bit the format's own
 *       dequantisation), so the same kernels run them.</li>
 * </ul>
 * Any other combination is not read (the runtime runs it on the reference). A format is accepted only if a
 * self-test passes: a small weight with random elements and scales, dequantised by the format's own reference
 * {@link WeightFormat#dequantizeRow} and by {@link #decode} (the Java twin of the kernels' {@code rg_weight}), must
 * agree bit for bit.
 *
 * @param fmt       kernel format code ({@link #F32} .. {@link #Q4}): the SPI's {@link FormatCodes}, repeated as
 *                  {@code RG_FMT_*} in rg_port.h (a test checks that the two agree)
 * @param auxFmt    format of the scale part: {@link #F16} or {@link #F32} (int8), {@link #F32} (q4), else -1
 * @param blockSize elements per scale, 0 for dense
 * @param auxPart   name of the scale part, null for dense
 * @param codebook  the 16 code values of a 4-bit format, else null
 * @param nested    the scale part holds u8 codes of nested scales ({@link NestedScales}), uploaded resolved to f32
 */
public record WeightCodec(int fmt, int auxFmt, int blockSize, String auxPart, float[] codebook, boolean nested) {
    public static final int F32 = FormatCodes.F32;
    public static final int BF16 = FormatCodes.BF16;
    public static final int F16 = FormatCodes.F16;
    public static final int I8 = FormatCodes.INT8_SYMMETRIC;
    public static final int Q4 = FormatCodes.CODE_BOOK_4BIT;

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Map<String, Optional<WeightCodec>> CACHE = new ConcurrentHashMap<>();

    /** Whether the format is one of the dense ones (allowed for every op). */
    public boolean dense() {
        return fmt <= F16;
    }

    /** Bytes of one element of a dense format. */
    public int denseBytes() {
        return fmt == F32 ? 4 : 2;
    }

    /** The codec of {@code format}, or empty when no kernel reads it. */
    public static Optional<WeightCodec> of(WeightFormat format) {
        return CACHE.computeIfAbsent(format.name() + "#" + System.identityHashCode(format), k -> detect(format));
    }

    /** Names of every discovered format that a kernel reads. */
    public static Set<String> supportedFormats() {
        Set<String> out = new TreeSet<>();
        for (WeightFormat f : WeightFormats.all().values()) {
            if (of(f).isPresent()) {
                out.add(f.name());
            }
        }
        return out;
    }

    private static Optional<WeightCodec> detect(WeightFormat f) {
        try {
            FormatLayout l = f.layout();
            WeightCodec candidate = l == null ? null : candidate(l);
            if (candidate == null || !candidate.selfTest(f)) {
                return Optional.empty();
            }
            return Optional.of(candidate);
        } catch (RuntimeException e) {
            return Optional.empty(); // a format we cannot probe is simply not accelerated
        }
    }

    /** What the kernels would read for layout {@code l}, or null when they do not read it. */
    static WeightCodec candidate(FormatLayout l) {
        boolean oneScalePart = l.scalePart() != null && l.parts().size() == 2
                && new HashSet<>(l.parts()).equals(Set.of(WeightFormat.DATA, l.scalePart()));
        return switch (l.elementEncoding()) {
            case F32, BF16, F16 -> l.packing() == FormatLayout.Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN && l.blockSize() == 0
                    && l.scaleType() == FormatLayout.ScaleType.NONE && l.parts().equals(List.of(WeightFormat.DATA))
                    ? new WeightCodec(l.elementEncoding().code(), -1, 0, null, null, false) : null;
            case INT8_SYMMETRIC -> {
                if (l.packing() != FormatLayout.Packing.ONE_PER_ELEMENT_LITTLE_ENDIAN || l.bitsPerElement() != 8
                        || l.blockSize() <= 0 || l.blocksSpanRows() || l.nestedScales() || !oneScalePart) {
                    yield null;
                }
                yield switch (l.scaleType()) {
                    case F16 -> new WeightCodec(I8, F16, l.blockSize(), l.scalePart(), null, false);
                    case F32 -> new WeightCodec(I8, F32, l.blockSize(), l.scalePart(), null, false);
                    case NONE, BF16, U8_NESTED -> null;
                };
            }
            case CODE_BOOK_4BIT -> {
                if (l.packing() != FormatLayout.Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST || l.bitsPerElement() != 4
                        || l.blockSize() <= 0 || !l.blocksSpanRows()) {
                    yield null;
                }
                yield switch (l.scaleType()) {
                    case F32 -> oneScalePart && !l.nestedScales()
                            ? new WeightCodec(Q4, F32, l.blockSize(), l.scalePart(), l.codeBook(), false) : null;
                    // resolved to float32 scales once, at upload: the kernels are those of the single-quantised format
                    case U8_NESTED -> l.nestedScales() && NestedScales.describes(l) && new HashSet<>(l.parts()).equals(
                            Set.of(WeightFormat.DATA, l.scalePart(), NestedScales.NESTED_ABSMAX, NestedScales.NESTED_QUANT_MAP))
                            ? new WeightCodec(Q4, F32, l.blockSize(), l.scalePart(), l.codeBook(), true) : null;
                    case NONE, F16, BF16 -> null;
                };
            }
        };
    }

    /** Random codes and scales through the format's reference dequantisation and through {@link #decode}. */
    private boolean selfTest(WeightFormat f) {
        SplittableRandom random = new SplittableRandom(7);
        try (Arena arena = Arena.ofConfined()) {
            for (int[] shape : new int[][] {{3, 40}, {2, 3 * Math.max(1, blockSize) + 5}, {5, 7}}) {
                int rows = shape[0];
                int cols = shape[1];
                long n = (long) rows * cols;
                MemorySegment data;
                MemorySegment scales = null;
                if (dense()) {
                    data = arena.allocate(n * denseBytes());
                    for (long i = 0; i < n; i++) {
                        float v = (float) (random.nextDouble() * 8 - 4);
                        switch (fmt) {
                            case F32 -> data.set(F32_LE, i * 4, v);
                            case BF16 -> data.set(I16_LE, i * 2, (short) (Float.floatToRawIntBits(v) >>> 16));
                            default -> data.set(I16_LE, i * 2, Float.floatToFloat16(v));
                        }
                    }
                } else if (fmt == I8) {
                    data = arena.allocate(n);
                    for (long i = 0; i < n; i++) {
                        data.set(ValueLayout.JAVA_BYTE, i, (byte) (random.nextInt(255) - 127));
                    }
                    long count = rows * ((cols + blockSize - 1L) / blockSize);
                    scales = arena.allocate(count * (auxFmt == F16 ? 2 : 4));
                    for (long i = 0; i < count; i++) {
                        float s = (float) (0.001 + random.nextDouble());
                        if (auxFmt == F16) {
                            scales.set(I16_LE, i * 2, Float.floatToFloat16(s));
                        } else {
                            scales.set(F32_LE, i * 4, s);
                        }
                    }
                } else {
                    data = arena.allocate((n + 1) / 2);
                    for (long i = 0; i < data.byteSize(); i++) {
                        data.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
                    }
                    long count = (n + blockSize - 1) / blockSize;
                    if (nested) {
                        scales = arena.allocate(count);
                        for (long i = 0; i < count; i++) {
                            scales.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
                        }
                    } else {
                        scales = arena.allocate(count * 4);
                        for (long i = 0; i < count; i++) {
                            scales.set(F32_LE, i * 4, (float) (0.001 + 3 * random.nextDouble()));
                        }
                    }
                }
                Map<String, MemorySegment> parts = new java.util.HashMap<>(Map.of(WeightFormat.DATA, data));
                Map<String, Double> params = Map.of();
                if (scales != null) {
                    parts.put(auxPart, scales);
                }
                if (nested) {
                    long groups = (scales.byteSize() + NestedScales.NESTED_BLOCK_SIZE - 1) / NestedScales.NESTED_BLOCK_SIZE;
                    parts.put(NestedScales.NESTED_ABSMAX, randomFloats(arena, random, groups, 0.01, 2));
                    parts.put(NestedScales.NESTED_QUANT_MAP, randomFloats(arena, random, NestedScales.MAP_ENTRIES, -1, 1));
                    params = Map.of(NestedScales.OFFSET, (double) (float) (0.01 + random.nextDouble()));
                }
                HostWeight w = new HostWeight("self-test", Shape.matrix(rows, cols), f, parts, params);
                f.validate(w);
                float[] want = new float[cols];
                for (int r = 0; r < rows; r++) {
                    f.dequantizeRow(w, r, want, 0);
                    for (int c = 0; c < cols; c++) {
                        if (Float.floatToRawIntBits(want[c]) != Float.floatToRawIntBits(decode(w, r, c))) {
                            return false;
                        }
                    }
                }
            }
            return true;
        }
    }

    private static MemorySegment randomFloats(Arena arena, SplittableRandom random, long count, double from, double to) {
        MemorySegment s = arena.allocate(count * 4);
        for (long i = 0; i < count; i++) {
            s.set(F32_LE, i * 4, (float) (from + (to - from) * random.nextDouble()));
        }
        return s;
    }

    /**
     * The scale part as the kernels read it: the weight's own part, or for {@link #nested} scales their float32
     * values, resolved into {@code arena}.
     */
    public MemorySegment scalesForKernels(HostWeight w, Arena arena) {
        if (!nested) {
            return w.part(auxPart);
        }
        float[] resolved = NestedScales.resolve(w, Math.toIntExact((w.shape().elementCount() + blockSize - 1) / blockSize));
        MemorySegment s = arena.allocate(resolved.length * 4L, 16);
        MemorySegment.copy(resolved, 0, s, F32_LE, 0, resolved.length);
        return s;
    }

    /** Element (r, c) of {@code w} exactly as the kernels' {@code rg_weight} computes it. */
    public float decode(HostWeight w, long r, long c) {
        long cols = w.shape().lastDim();
        MemorySegment data = w.part(WeightFormat.DATA);
        return switch (fmt) {
            case F32 -> data.get(F32_LE, (r * cols + c) * 4);
            case BF16 -> Float.intBitsToFloat((data.get(I16_LE, (r * cols + c) * 2) & 0xFFFF) << 16);
            case F16 -> Float.float16ToFloat(data.get(I16_LE, (r * cols + c) * 2));
            case I8 -> {
                long blocks = (cols + blockSize - 1) / blockSize;
                long si = r * blocks + c / blockSize;
                MemorySegment s = w.part(auxPart);
                float scale = auxFmt == F16 ? Float.float16ToFloat(s.get(I16_LE, si * 2)) : s.get(F32_LE, si * 4);
                yield (float) data.get(ValueLayout.JAVA_BYTE, r * cols + c) * scale;
            }
            case Q4 -> {
                long i = r * cols + c;
                int b = data.get(ValueLayout.JAVA_BYTE, i >>> 1) & 0xFF;
                int code = (i & 1) != 0 ? b & 15 : b >>> 4;
                long block = i / blockSize;
                yield codebook[code] * (nested ? NestedScales.scale(w, block) : w.part(auxPart).get(F32_LE, block * 4));
            }
            default -> throw new IllegalStateException("format code " + fmt);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightCodec c && c.fmt == fmt && c.auxFmt == auxFmt && c.blockSize == blockSize
                && java.util.Objects.equals(c.auxPart, auxPart) && Arrays.equals(c.codebook, codebook) && c.nested == nested;
    }

    @Override
    public int hashCode() {
        return fmt * 31 + blockSize;
    }

    @Override
    public String toString() {
        return "WeightCodec[fmt=" + fmt + ", auxFmt=" + auxFmt + ", blockSize=" + blockSize + ", auxPart=" + auxPart
                + (codebook == null ? "" : ", codebook=" + Arrays.toString(codebook)) + (nested ? ", nested" : "") + "]";
    }
}
