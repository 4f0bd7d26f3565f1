package dev.rg.backend.vector;

import java.lang.foreign.MemorySegment;

/**
 * The per-format inner kernel of {@link Matmul} and of the embedding lookup. A weight format plugs into the
 * backend by one subclass (registered in {@link RowDots}); the threading, chunking and bias handling of
 * {@link Matmul} stay the same for every format.
 *
 * <p>A matmul call first lets the kernel {@link #prepare} the activations once (for example de-interleave
 * them to match packed weight lanes, or quantise them for an integer dot product), then calls {@link #dot}
 * on disjoint ranges of weight rows from several threads. Implementations must be stateless (they are shared)
 * and must not allocate in {@code dot}.
 */
abstract class RowDot {
    /**
     * The most activation rows that take a kernel's batched-decode path (weight rows outermost: each weight is read from
     * memory once for the whole batch); more rows take the prefill path (K-blocked register tiles). A batch of
     * sequences decoded together is at most this many rows per step in the server's continuous batching.
     */
    static final int BATCH_MAX = 16;

    /**
     * Decode's row order (one activation row; bf16 and int8 batches too): a unit's rows {@code [j0, j1)} are read as four
     * sequential streams, one per quarter. With {@code q = spread(j0, j1)}, the four-row tile takes rows {@code j, j + q, j + 2q, j + 3q} for
     * {@code j} in {@code [j0, j0 + q)}, and rows from {@code j0 + 4q} on are done one at a time. Each output is summed
     * exactly as with four adjacent rows, so the bits do not change. Four adjacent rows are a 20 KB window read at four
     * points that jump to the next window every tile; four long streams are what the hardware prefetchers follow. On the
     * 2-core Zen 5 machine (2026-12-07, {@code VectorBench 2 decode-bf16 5}, adjacent / spread alternated twice, medians):
     * 7680 x 2560 36.2 / 29.1 vs 55.7 / 58.7 GB/s, 2560 x 7680 37.4 / 35.9 vs 46.2 / 56.0, the 256000 x 2560 LM head
     * 41.1 / 44.6 vs 63.3 / 66.2; in the model ({@code rg bench --preset 2b -p 0 -n 8 -r 3 -t 2}) 4.84 / 4.29 vs 7.72 / 7.63
     * tok/s.
     */
    static int spread(int j0, int j1) {
        return (j1 - j0) / 4;
    }

    /**
     * Floats of scratch {@link #prepare} needs for {@code n} rows of {@code k} columns. By default none: most kernels
     * read the activations as they are; a kernel that rearranges them overrides both methods.
     */
    int preparedSize(int n, int k) {
        return 0;
    }

    /**
     * Puts {@code n} rows of {@code k} activations into the layout {@link #dot} reads. By default the activations as
     * they are (row-major floats).
     *
     * @return {@code x} itself, or {@code scratch} (of at least {@link #preparedSize} floats) filled
     */
    float[] prepare(float[] x, int n, int k, float[] scratch) {
        return x;
    }

    /**
     * {@code out[i * w.rows() + j] = sum_c x[i][c] * w[j][c]} for every activation row {@code i < n} and weight
     * row {@code j} in {@code [j0, j1)}, accumulating in float32.
     *
     * @param xp      activations as returned by {@link #prepare}
     * @param scratch this thread's own scratch of at least {@link #scratchSize} floats
     * @param panel   this thread's own 64-byte-aligned panel of at least {@link #reuseBytes} times the unit's
     *                rows when the rows take the K-blocked path ({@link #blocked}; a kernel may pack the K block it
     *                re-reads into it), else null or smaller
     */
    abstract void dot(VectorWeight w, float[] xp, int n, int j0, int j1, float[] out, float[] scratch, MemorySegment panel);

    /** Floats of per-thread scratch {@link #dot} needs for rows of {@code k} columns (e.g. a dequantised tile). */
    int scratchSize(int k) {
        return 0;
    }

    /**
     * Whether {@code n} activation rows take the K-blocked path (a prefill). Batches of up to {@link #BATCH_MAX} rows
     * read weight rows outermost, a quarter of the unit apart ({@link #spread}). bf16 batches of 12 to 16 rows took the
     * K-blocked path until decode's row order reached batches: spread, the batch path read faster
     * ({@code VectorBench 2 batch-bf16 5}, 7680 x 2560, three alternations, medians: 12 rows 2960 / 3589 / 3073 vs 3660 /
     * 3672 / 3715 us, 16 rows 3617 / 3938 / 3943 vs 4609 / 4048 / 4270).
     */
    final boolean blocked(int n) {
        return n > BATCH_MAX;
    }

    /** Weight row {@code row} as floats into {@code dst[off .. off + w.cols())} (the embedding lookup). */
    abstract void dequantizeRow(VectorWeight w, long row, float[] dst, int off);

    /**
     * Bytes of one weight row that the K-blocked path ({@link #blocked}) of {@code n} rows re-reads for every group of
     * activation rows before it moves on (its K block), or 0 when it reads each weight once (weight rows outermost).
     * {@link Matmul} sizes prefill units so that a unit's rows times this stay in L2, and gives each thread a panel of
     * that size to pack them into.
     */
    int reuseBytes(int k, int n) {
        return 0;
    }

    /** Weight rows per register tile: chunk boundaries given to {@link #dot} are multiples of it where possible. */
    int tileRows() {
        return 4;
    }

    /**
     * Whether every weight row starts on a cache line. A checkpoint's tensors rarely do (a safetensors header is padded
     * to 8 bytes only; the test fixtures sit at 16 or 48 bytes past a line), and then every 64-byte load splits two
     * lines, re-read from L2 for each four activation rows of a prefill. The bf16 and f32 prefill paths pack such rows
     * into an aligned panel per K block instead ({@code VectorBench 1 prefill-misaligned}, 128 x [7680 x 2560], one
     * pinned Zen 5 core: bf16 rows 16 bytes off 121-122 GFLOP/s before, 155-157 packed; packing aligned rows too cost
     * 1-2%, so they are read in place).
     */
    static boolean aligned(MemorySegment s, long rowBytes) {
        return s.isNative() && s.address() % 64 == 0 && rowBytes % 64 == 0;
    }

    /**
     * Copies bytes {@code [from, from + bytes)} of weight rows {@code [j0, j1)} ({@code rowBytes} apart in {@code s}) to
     * {@code panel}, row after row, {@code bytes} apart.
     */
    static void packRows(MemorySegment s, long rowBytes, int j0, int j1, long from, long bytes, MemorySegment panel) {
        for (int j = j0; j < j1; j++) {
            MemorySegment.copy(s, j * rowBytes + from, panel, (j - j0) * bytes, bytes);
        }
    }
}
