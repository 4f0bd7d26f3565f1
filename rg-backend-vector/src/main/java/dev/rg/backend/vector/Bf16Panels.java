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
     * A packed copy of the row-major bf16 matrix {@code src} ({@code rows x cols}, little-endian), allocated in
     * {@code arena}, zero-padded to whole panels; one unit of {@code pool} per panel.
     *
     * <p>Not an automatic arena: the JVM counts {@code Arena.ofAuto()} memory against its direct-memory limit, which
     * defaults to the maximum heap (a quarter of RAM), so a 2B model's 5.4 GB of panels failed to load on a 16 GB
     * machine and a 9B model's 17 GB on a 64 GB one. The backend frees the arena with the weight or when it closes
     * ({@link VectorBackend#loadWeight}); what the machine can hold is {@link PanelBudget}'s to decide.
     */
    static MemorySegment pack(MemorySegment src, int rows, int cols, WorkerPool pool, Arena arena) {
        MemorySegment dst = arena.allocate(Math.max(1, bytes(rows, cols)), 64); // zero-filled
        int n = panels(rows);
        if (n > 0 && cols > 0) {
            pool.run((p, worker) -> packPanel(src, rows, cols, p, dst), n);
        }
        return dst;
    }

    /** Columns per block of {@link #packPanel}: 32 rows x 256 columns of bf16, 16 KB in and 16 KB out, stay in L1. */
    private static final int PACK_COLUMNS = 256;

    /**
     * Panel {@code p}, a block of columns at a time: the panel's rows are bulk-copied into a heap tile (each source run
     * read sequentially), interleaved there, and the block's steps bulk-copied out (each destination line written
     * whole). Element by element through the segments, with one 2-byte write per 64-byte step, packing the 2B's 5.4 GB
     * took 17-33 s on two threads.
     */
    static void packPanel(MemorySegment src, int rows, int cols, int p, MemorySegment dst) {
        short[] tile = new short[ROWS * PACK_COLUMNS]; // rows past the matrix's last stay zero
        short[] steps = new short[PACK_COLUMNS * ROWS];
        long base = p * panelBytes(cols);
        int valid = (int) Math.min(ROWS, rows - (long) p * ROWS);
        for (int c0 = 0; c0 < cols; c0 += PACK_COLUMNS) {
            int cb = Math.min(PACK_COLUMNS, cols - c0);
            for (int r = 0; r < valid; r++) {
                long from = 2L * (((long) p * ROWS + r) * cols + c0);
                MemorySegment.copy(src, DenseWeights.I16_LE, from, tile, r * PACK_COLUMNS, cb);
            }
            for (int c = 0; c < cb; c++) {
                int at = c * ROWS;
                for (int l = 0; l < L; l++) {
                    // int lane l: row l in the low half, row L + l in the high half (little-endian: low half first)
                    steps[at + 2 * l] = tile[l * PACK_COLUMNS + c];
                    steps[at + 2 * l + 1] = tile[(L + l) * PACK_COLUMNS + c];
                }
            }
            MemorySegment.copy(steps, 0, dst, DenseWeights.I16_LE, base + c0 * STEP_BYTES, cb * ROWS);
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
