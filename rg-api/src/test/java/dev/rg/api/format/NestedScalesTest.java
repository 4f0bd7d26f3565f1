package dev.rg.api.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The nested (u8) block scales of the SPI, resolved as bitsandbytes does: a multiply and an add, rounded apart. */
class NestedScalesTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCKS = 600; // three nested groups, the last one partial

    @Test
    void resolvesEveryBlockWithTwoRoundings() {
        SplittableRandom r = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = complete(arena, r);
            float offset = (float) w.param(NestedScales.OFFSET);
            float[] scales = NestedScales.resolve(w, BLOCKS);
            int fusedWouldDiffer = 0;
            for (int b = 0; b < BLOCKS; b++) {
                int code = w.part("absmax").get(ValueLayout.JAVA_BYTE, b) & 0xFF;
                float m = w.part(NestedScales.NESTED_QUANT_MAP).get(F32, code * 4L);
                float n = w.part(NestedScales.NESTED_ABSMAX).get(F32, b / 256 * 4L);
                // a float product is exact in double, and at these magnitudes so is the sum: each cast rounds once
                float expected = (float) ((double) (float) ((double) m * n) + offset);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(scales[b]), "block " + b);
                assertEquals(Float.floatToRawIntBits(scales[b]), Float.floatToRawIntBits(NestedScales.scale(w, b)));
                if (Math.fma(m, n, offset) != scales[b]) {
                    fusedWouldDiffer++;
                }
            }
            assertTrue(fusedWouldDiffer > 0, "random scales where one rounding (an FMA) gives other bits");
        }
    }

    @Test
    void shortPartsAndPlainScalesAreNamed() {
        SplittableRandom r = new SplittableRandom(6);
        try (Arena arena = Arena.ofConfined()) {
            HostWeight w = complete(arena, r);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NestedScales.resolve(w, BLOCKS + 1));
            assertEquals("weight 'w' part 'absmax' has 600 bytes, expected at least 601 (601 u8 scale codes)",
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> NestedScales.resolve(w, 3 * 256 + 1));
            assertTrue(e.getMessage().contains("part 'absmax'"), e.getMessage());
            HostWeight missingPart = weight(arena, r, BLOCKS, List.of("data", "absmax", NestedScales.NESTED_ABSMAX));
            assertFalse(NestedScales.describes(missingPart.format().layout()));
            e = assertThrows(IllegalArgumentException.class, () -> NestedScales.resolve(missingPart, 1));
            assertEquals("weight 'w' in format test-nested has no nested (u8) block scales", e.getMessage());
        }
    }

    /** {@link #BLOCKS} blocks whose layout names every part nested scales need. */
    private static HostWeight complete(Arena arena, SplittableRandom r) {
        return weight(arena, r, BLOCKS, List.of("data", "absmax", NestedScales.NESTED_ABSMAX, NestedScales.NESTED_QUANT_MAP));
    }

    /** A weight with random u8 codes, map, nested absmax and offset (no data: nothing here reads it). */
    private static HostWeight weight(Arena arena, SplittableRandom r, int blocks, List<String> layoutParts) {
        MemorySegment codes = arena.allocate(blocks);
        for (int b = 0; b < blocks; b++) {
            codes.set(ValueLayout.JAVA_BYTE, b, (byte) r.nextInt(256));
        }
        int groups = (blocks + 255) / 256;
        MemorySegment nested = floats(arena, r, groups, 0.01, 2);
        MemorySegment map = floats(arena, r, 256, -1, 1);
        FormatLayout layout = new FormatLayout(4, 64, FormatLayout.ElementEncoding.CODE_BOOK_4BIT,
                FormatLayout.Packing.TWO_PER_BYTE_HIGH_NIBBLE_FIRST, FormatLayout.ScaleType.U8_NESTED, "absmax", true,
                true, layoutParts, new float[16]);
        return new HostWeight("w", Shape.matrix(blocks, 64), new LayoutOnly(layout),
                Map.of("absmax", codes, NestedScales.NESTED_ABSMAX, nested, NestedScales.NESTED_QUANT_MAP, map),
                Map.of(NestedScales.OFFSET, (double) (float) (0.01 + r.nextDouble())));
    }

    private static MemorySegment floats(Arena arena, SplittableRandom r, int count, double from, double to) {
        MemorySegment s = arena.allocate(count * 4L);
        for (int i = 0; i < count; i++) {
            s.set(F32, i * 4L, (float) (from + (to - from) * r.nextDouble()));
        }
        return s;
    }

    /** A format that only describes its layout: what a backend sees of a plugin's format. */
    private record LayoutOnly(FormatLayout layout) implements WeightFormat {
        @Override
        public String name() {
            return "test-nested";
        }

        @Override
        public void validate(HostWeight w) {}

        @Override
        public void dequantizeRow(HostWeight w, long row, float[] dst, int offset) {
            throw new UnsupportedOperationException("not read here");
        }

        @Override
        public HostWeight quantize(String name, Shape shape, dev.rg.api.format.RowSource source, Arena arena) {
            throw new UnsupportedOperationException("not made here");
        }

        @Override
        public long byteSize(Shape shape) {
            return 0;
        }
    }
}
