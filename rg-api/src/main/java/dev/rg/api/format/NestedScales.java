package dev.rg.api.format;

import dev.rg.api.tensor.HostWeight;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * What {@link FormatLayout.ScaleType#U8_NESTED} block scales mean (bitsandbytes' double quantisation), so that a
 * backend resolves them to one float32 scale per block from the SPI alone, without depending on the module of the
 * format, and every backend resolves them the same way:
 * <pre>
 *   scale[b] = f32(f32(nested_quant_map[code[b]] * nested_absmax[b / 256]) + offset)   (two roundings, no FMA)
 * </pre>
 * where {@code code[b]} is byte {@code b} of the layout's {@link FormatLayout#scalePart() scale part} (unsigned),
 * {@code nested_quant_map} a part of 256 float32, {@code nested_absmax} a part of one float32 per 256 blocks, and
 * {@code offset} a parameter of the weight (a float32 value held in a double). This is bitsandbytes'
 * {@code dequantize_blockwise} of the statistics followed by its separate add of the offset. A weight's parts are
 * checked by its format's {@code validate}; the methods here check only what they read.
 */
public final class NestedScales {
    private NestedScales() {}

    /** Part: float32 absmax of each group of {@link #NESTED_BLOCK_SIZE} scale codes. */
    public static final String NESTED_ABSMAX = "nested_absmax";
    /** Part: the {@link #MAP_ENTRIES} float32 values the u8 scale codes index. */
    public static final String NESTED_QUANT_MAP = "nested_quant_map";
    /** Parameter: the float32 value added to every dequantised scale. */
    public static final String OFFSET = "offset";
    /** Scale codes sharing one {@code nested_absmax} entry (bitsandbytes' {@code compress_statistics}). */
    public static final int NESTED_BLOCK_SIZE = 256;
    /** Entries of {@code nested_quant_map}: one per u8 code. */
    public static final int MAP_ENTRIES = 256;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Whether {@code layout} has nested scales and names every part they need. */
    public static boolean describes(FormatLayout layout) {
        return layout.scaleType() == FormatLayout.ScaleType.U8_NESTED && layout.scalePart() != null
                && layout.parts().contains(layout.scalePart()) && layout.parts().contains(NESTED_ABSMAX)
                && layout.parts().contains(NESTED_QUANT_MAP);
    }

    /**
     * One float32 of {@code nestedValue * nestedAbsmax}, then one of {@code + offset}. Java never contracts the two
     * into an FMA, so this rounds twice, as bitsandbytes does; a kernel that resolves scales itself must not fuse them.
     */
    public static float dequantize(float nestedValue, float nestedAbsmax, float offset) {
        float scaled = nestedValue * nestedAbsmax;
        return scaled + offset;
    }

    /**
     * The float32 scale of block {@code block} of {@code w}. Called once per block by a format's row dequantisation, so
     * it checks only the scale type (a missing part is named by {@link HostWeight#part}); {@link #resolve} checks all.
     */
    public static float scale(HostWeight w, long block) {
        FormatLayout l = w.format().layout();
        if (l == null || l.scaleType() != FormatLayout.ScaleType.U8_NESTED || l.scalePart() == null) {
            throw notNested(w);
        }
        int code = w.part(l.scalePart()).get(ValueLayout.JAVA_BYTE, block) & 0xFF;
        return dequantize(w.part(NESTED_QUANT_MAP).get(F32, code * 4L),
                w.part(NESTED_ABSMAX).get(F32, block / NESTED_BLOCK_SIZE * 4), (float) w.param(OFFSET));
    }

    /**
     * The float32 scale of each of the first {@code blocks} blocks of {@code w}, in block order.
     *
     * @throws IllegalArgumentException naming the weight and part if a part holds fewer entries than that needs
     */
    public static float[] resolve(HostWeight w, int blocks) {
        String scalePart = requireNested(w);
        MemorySegment codes = w.part(scalePart);
        MemorySegment nested = w.part(NESTED_ABSMAX);
        MemorySegment map = w.part(NESTED_QUANT_MAP);
        long groups = (blocks + (long) NESTED_BLOCK_SIZE - 1) / NESTED_BLOCK_SIZE;
        requireBytes(w, scalePart, codes, blocks, blocks + " u8 scale codes");
        requireBytes(w, NESTED_ABSMAX, nested, groups * 4, groups + " float32");
        requireBytes(w, NESTED_QUANT_MAP, map, MAP_ENTRIES * 4L, MAP_ENTRIES + " float32");
        float offset = (float) w.param(OFFSET);
        float[] table = new float[MAP_ENTRIES];
        for (int i = 0; i < MAP_ENTRIES; i++) {
            table[i] = map.get(F32, i * 4L);
        }
        float[] out = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            int code = codes.get(ValueLayout.JAVA_BYTE, b) & 0xFF;
            out[b] = dequantize(table[code], nested.get(F32, (long) (b / NESTED_BLOCK_SIZE) * 4), offset);
        }
        return out;
    }

    private static String requireNested(HostWeight w) {
        FormatLayout l = w.format().layout();
        if (l == null || !describes(l)) {
            throw notNested(w);
        }
        return l.scalePart();
    }

    private static IllegalArgumentException notNested(HostWeight w) {
        return new IllegalArgumentException("weight '" + w.name() + "' in format " + w.format().name()
                + " has no nested (u8) block scales");
    }

    private static void requireBytes(HostWeight w, String part, MemorySegment s, long bytes, String what) {
        if (s.byteSize() < bytes) {
            throw new IllegalArgumentException("weight '" + w.name() + "' part '" + part + "' has " + s.byteSize()
                    + " bytes, expected at least " + bytes + " (" + what + ")");
        }
    }
}
