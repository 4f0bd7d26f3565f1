package dev.rg.backend.vector;

import java.lang.foreign.MemorySegment;

/**
 * The shared structure of the quantised formats' kernels ({@link Int8RowDot}, {@link Nf4RowDot}): two paths.
 *
 * <ul>
 *   <li><b>Decode</b> (one activation row, {@link #direct()}): {@link #decode} reads the packed weights in place
 *       and never materialises them: each block's partial dot product is accumulated in float32 from the
 *       widened (int8) or looked-up (4-bit) codes, then multiplied by the block's scale once and added to the
 *       row's sum. The work per weight byte is what limits a quantised matvec, so it is kept to a few vector
 *       ops (see the subclasses).</li>
 *   <li><b>Batches and prefill</b> (two or more rows): four weight rows at a time are dequantised exactly as the
 *       format's reference does ({@code code x scale}, one float32 multiply) into this thread's scratch, one K
 *       block of {@link #K_BLOCK} elements at a time (4 x 1024 floats = 16 KB, L1-resident), and every
 *       activation row is multiplied against that block with the float register tiles of {@link FloatTiles}
 *       (4 x 4, then 2 x 4 and 1 x 4 for the last rows). Dequantisation is paid once per weight, not once per row,
 *       and weight rows are the outermost loop: a batch of sequences decoded together (2 to 16 rows) reads each weight
 *       from memory once, as one sequence does. A format may decode batches in registers instead ({@link #batch}):
 *       {@link Int8RowDot} runs every batch on its decode kernel, {@link Nf4RowDot} pairs of weight rows on 512-bit
 *       shapes.</li>
 * </ul>
 *
 * The activations are in the layout {@link #prepare} gives ({@link Nf4RowDot} de-interleaves them to match its
 * even/odd nibbles), and {@link #dequantize} writes weights in that same layout, so both paths read one layout.
 */
abstract class QuantRowDot extends RowDot {
    /**
     * Elements per K block of the batched path: a multiple of 64 (the 4-bit block, and two int8 blocks).
     * {@code -Drg.vector.quantKBlock} overrides it for tuning.
     */
    static final int K_BLOCK = Math.max(64, Integer.getInteger("rg.vector.quantKBlock", 1024) / 64 * 64);

    @Override
    int scratchSize(int k) {
        return 4 * Math.min(k, K_BLOCK) + Accumulators.FLOATS;
    }

    /** Whether {@link #decode} is available (else one activation row also takes the batched path). */
    abstract boolean direct();

    /**
     * {@code out[j] = dot(x, w[j])} for {@code j} in {@code [j0, j1)}, one activation row, weights read in place;
     * {@code scratch} holds {@link #scratchSize} floats of this thread's own.
     */
    abstract void decode(VectorWeight w, float[] xp, int j0, int j1, float[] out, float[] scratch);

    /**
     * Weight rows {@code [j, j + rows)}, columns {@code [c0, c0 + len)}, dequantised into {@code wt[r * ws ..]}
     * in the layout of {@link #prepare}. {@code c0} is a multiple of {@link #K_BLOCK}.
     */
    abstract void dequantize(VectorWeight w, int j, int rows, int c0, int len, float[] wt, int ws);

    /**
     * Batched decode ({@code 2 <= n <=} {@link RowDot#BATCH_MAX} rows) without the dequantised scratch: weight rows
     * decoded in registers, each decoded vector multiplied with every row of the batch. Does weight rows
     * {@code [j0, r)} and returns {@code r}; the rest take the dequantise-and-tile path. By default none.
     */
    int batch(VectorWeight w, float[] xp, int n, int j0, int j1, float[] out, float[] scratch) {
        return j0;
    }

    @Override
    final void dot(VectorWeight w, float[] xp, int n, int j0, int j1, float[] out, float[] wt, MemorySegment panel) {
        if (n == 1 && direct()) {
            decode(w, xp, j0, j1, out, wt);
            return;
        }
        if (n <= RowDot.BATCH_MAX) {
            j0 = batch(w, xp, n, j0, j1, out, wt);
        }
        int k = w.cols();
        int outCols = w.rows();
        int kb = Math.min(k, K_BLOCK);
        int it = n / 4 * 4;
        for (int j = j0; j < j1; j += 4) {
            int rows = Math.min(4, j1 - j);
            for (int c0 = 0; c0 < k; c0 += kb) {
                int len = Math.min(kb, k - c0);
                boolean first = c0 == 0;
                dequantize(w, j, rows, c0, len, wt, kb);
                if (rows == 4) {
                    int i = 0;
                    for (; i < it; i += 4) {
                        FloatTiles.tile4x4(wt, 0, kb, xp, i * k + c0, k, len, out, i * outCols + j, outCols, first, wt, 4 * kb);
                    }
                    if (i + 2 <= n) {
                        FloatTiles.tile2x4(wt, 0, kb, xp, i * k + c0, k, len, out, i * outCols + j, outCols, first, wt, 4 * kb);
                        i += 2;
                    }
                    for (; i < n; i++) {
                        FloatTiles.tile1x4(wt, 0, kb, xp, i * k + c0, len, out, i * outCols + j, first);
                    }
                } else {
                    for (int r = 0; r < rows; r++) {
                        for (int i = 0; i < n; i++) {
                            FloatTiles.put(out, i * outCols + j + r, FloatTiles.dot(wt, r * kb, xp, i * k + c0, len), first);
                        }
                    }
                }
            }
        }
    }
}
