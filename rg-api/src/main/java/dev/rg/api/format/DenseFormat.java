package dev.rg.api.format;

import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The unquantised storage formats: {@code f32}, {@code bf16} and {@code f16}, one element after another,
 * little-endian, in a single part {@link WeightFormat#DATA}. They are part of the SPI because loading any
 * checkpoint needs them.
 */
public abstract sealed class DenseFormat implements WeightFormat
        permits DenseFormat.F32Format, DenseFormat.BF16Format, DenseFormat.F16Format {

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final int bytes;
    private final FormatLayout layout;

    DenseFormat(String name, int bytes, FormatLayout.ElementEncoding encoding) {
        this.name = name;
        this.bytes = bytes;
        this.layout = FormatLayout.dense(encoding);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public FormatLayout layout() {
        return layout;
    }

    /** Bytes per element. */
    public int elementBytes() {
        return bytes;
    }

    @Override
    public long byteSize(Shape shape) {
        return shape.elementCount() * bytes;
    }

    @Override
    public void validate(HostWeight w) {
        long expected = byteSize(w.shape());
        long actual = w.part(DATA).byteSize();
        if (actual != expected) {
            throw new InvalidWeightException("weight '" + w.name() + "' (" + name + ", shape " + w.shape()
                    + ") needs " + expected + " bytes but has " + actual);
        }
    }

    /** Reads element {@code index} of the flattened weight. */
    public abstract float get(MemorySegment data, long index);

    @Override
    public void dequantizeRow(HostWeight w, long row, float[] dst, int offset) {
        MemorySegment data = w.part(DATA);
        int cols = Math.toIntExact(w.shape().lastDim());
        long base = row * cols;
        for (int i = 0; i < cols; i++) {
            dst[offset + i] = get(data, base + i);
        }
    }

    @Override
    public HostWeight quantize(String weightName, Shape shape, RowSource source, Arena arena) {
        int cols = Math.toIntExact(shape.lastDim());
        long rows = shape.rows();
        MemorySegment data = arena.allocate(byteSize(shape), 64);
        float[] row = new float[cols];
        for (long r = 0; r < rows; r++) {
            source.row(r, row);
            for (int c = 0; c < cols; c++) {
                put(data, r * cols + c, row[c]);
            }
        }
        return HostWeight.dense(weightName, shape, this, data);
    }

    /** Writes element {@code index}, rounding to this format (nearest even). */
    public abstract void put(MemorySegment data, long index, float value);

    /** IEEE binary32. */
    public static final class F32Format extends DenseFormat {
        public F32Format() {
            super("f32", 4, FormatLayout.ElementEncoding.F32);
        }

        @Override
        public float get(MemorySegment data, long index) {
            return data.get(F32_LE, index * 4);
        }

        @Override
        public void put(MemorySegment data, long index, float value) {
            data.set(F32_LE, index * 4, value);
        }
    }

    /** bfloat16: the upper 16 bits of a binary32. */
    public static final class BF16Format extends DenseFormat {
        public BF16Format() {
            super("bf16", 2, FormatLayout.ElementEncoding.BF16);
        }

        @Override
        public float get(MemorySegment data, long index) {
            return Floats.bf16ToFloat(data.get(I16_LE, index * 2));
        }

        @Override
        public void put(MemorySegment data, long index, float value) {
            data.set(I16_LE, index * 2, Floats.floatToBf16(value));
        }
    }

    /** IEEE binary16. */
    public static final class F16Format extends DenseFormat {
        public F16Format() {
            super("f16", 2, FormatLayout.ElementEncoding.F16);
        }

        @Override
        public float get(MemorySegment data, long index) {
            return Floats.f16ToFloat(data.get(I16_LE, index * 2));
        }

        @Override
        public void put(MemorySegment data, long index, float value) {
            data.set(I16_LE, index * 2, Floats.floatToF16(value));
        }
    }
}
