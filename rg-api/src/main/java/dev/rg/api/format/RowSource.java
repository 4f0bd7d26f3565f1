package dev.rg.api.format;

/** Supplies the float32 values of one row of a matrix; used as the input of quantisation. */
@FunctionalInterface
public interface RowSource {
    /** Writes row {@code row} (length = columns) into {@code dst[0..cols)}. */
    void row(long row, float[] dst);
}
