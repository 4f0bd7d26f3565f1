package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The panel layout of a bf16 matrix, made once at load for {@link Bf16PanelDot}: the weight's rows in panels of
 * {@link #ROWS} ({@code 2 L}) output rows, each panel stored column after column. Step {@code c} of panel {@code p} is
 * one int vector of {@code L} lanes; lane {@code l} holds row {@code p * 2L + l}'s element {@code c} in its low 16
 * bits and row {@code p * 2L + L + l}'s in its high 16 bits, so {@code lane << 16} and {@code lane & 0xFFFF0000} are
 * the two output vectors' weights, already float32 bit patterns.
 *
 * <p>Why: a row-major matrix can only be multiplied as dot products along K, so every FMA needs a vector load of the
 * activations as well as of the weights; a batch tile of 4 x 4 then loads 12 vectors per 32 FMAs, much of it from L2,
 * and reached about half the FMA rate. Column after column, each weight vector multiplies a broadcast activation
 * scalar (an outer product, as in any GEMM micro-kernel): a 4-row x 2-panel tile loads 2 vectors and 4 scalars per
 * 16 FMAs. The rows past the matrix's last (to a whole panel) are zero and their outputs are never stored.
 */
final class Bf16Panels {
    private Bf16Panels() {}

    /** Output rows per panel: the two float vectors of one int vector of bf16 pairs. */
    static final int ROWS = 2 * L;
    /** Bytes per column step of a panel: one int vector. */
    static final long STEP_BYTES = 4L * L;

    /** Panels of a matrix of {@code rows} rows (the last one padded with zero rows). */
    static int panels(int rows) {
        return (rows + ROWS - 1) / ROWS;
    }

    /** Bytes of one panel of a matrix of {@code cols} columns. */
    static long panelBytes(int cols) {
        return cols * STEP_BYTES;
    }

    /** Bytes of the whole packed matrix. */
    static long bytes(int rows, int cols) {
        return panels(rows) * panelBytes(cols);
    }

    /**
     * A packed copy of the row-major bf16 matrix {@code src} ({@code rows x cols}, little-endian), in an automatic
     * arena (freed with the weight), zero-padded to whole panels; one unit of {@code pool} per panel.
     */
    static MemorySegment pack(MemorySegment src, int rows, int cols, WorkerPool pool) {
        MemorySegment dst = Arena.ofAuto().allocate(Math.max(1, bytes(rows, cols)), 64); // zero-filled
        int n = panels(rows);
        if (n > 0 && cols > 0) {
            pool.run((p, worker) -> packPanel(src, rows, cols, p, dst), n);
        }
        return dst;
    }

    /** Panel {@code p}: each source row read once, front to back, its elements written one step apart. */
    static void packPanel(MemorySegment src, int rows, int cols, int p, MemorySegment dst) {
        long base = p * panelBytes(cols);
        long rowBytes = 2L * cols;
        for (int r = 0; r < ROWS; r++) {
            long j = (long) p * ROWS + r;
            if (j >= rows) {
                return; // padding rows stay zero
            }
            long to = base + (r < L ? 4L * r : 4L * (r - L) + 2);
            long from = j * rowBytes;
            for (int c = 0; c < cols; c++) {
                dst.set(DenseWeights.I16_LE, to + c * STEP_BYTES, src.get(DenseWeights.I16_LE, from + 2L * c));
            }
        }
    }

    /** Element {@code (row, col)} of a packed matrix, as bf16 bits (tests). */
    static short get(MemorySegment packed, int cols, int row, int col) {
        int p = row / ROWS;
        int r = row % ROWS;
        long at = p * panelBytes(cols) + col * STEP_BYTES + (r < L ? 4L * r : 4L * (r - L) + 2);
        return packed.get(DenseWeights.I16_LE, at);
    }
}
