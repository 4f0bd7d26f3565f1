package dev.rg.api.format;

import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;

/**
 * A storage format for weights: dense ({@code f32}, {@code bf16}, {@code f16}) or quantised ({@code int8},
 * {@code nf4}, ...). Implementations are discovered with {@link java.util.ServiceLoader} and looked up by
 * {@link #name()}; see {@link WeightFormats}.
 *
 * <p>Every format has a scalar reference {@link #dequantizeRow dequantisation}. It is the definition of the
 * format: every backend kernel is tested against it.
 */
public interface WeightFormat {
    /** Name of the part that holds the elements in every built-in format. */
    String DATA = "data";

    /** Short unique name, lower case, e.g. {@code "nf4"}. */
    String name();

    /** The byte layout, for backends that accelerate it. */
    FormatLayout layout();

    /**
     * Checks that the parts of {@code w} are consistent with its shape (sizes, counts, parameters).
     *
     * @throws InvalidWeightException naming the weight and what was expected
     */
    void validate(HostWeight w);

    /** Reference dequantisation of row {@code row} of {@code w} into {@code dst[offset .. offset+cols)}. */
    void dequantizeRow(HostWeight w, long row, float[] dst, int offset);

    /** Whether {@link #quantize} is supported (a format read only from checkpoints may not be). */
    default boolean canQuantize() {
        return true;
    }

    /**
     * Encodes a float32 matrix of {@code shape} (viewed as rows x last dim) into this format, allocating the
     * parts in {@code arena}.
     */
    HostWeight quantize(String name, Shape shape, RowSource source, Arena arena);

    /** Bytes a weight of {@code shape} occupies in this format. */
    long byteSize(Shape shape);
}
