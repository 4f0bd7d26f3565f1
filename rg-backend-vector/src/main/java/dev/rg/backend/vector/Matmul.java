package dev.rg.backend.vector;

import dev.rg.api.tensor.HostTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@code out = x @ w^T + bias} for every weight format, split over threads by weight rows; also a group of
 * such matmuls over one input ({@link #runGroup}) as one dispatch.
 *
 * <p>Each unit is a contiguous range of weight rows, so every core streams its own part of the matrix once
 * (decode is a pure read of the weights: memory bandwidth is the limit) and computes all activation rows
 * against it (prefill: each weight tile is reused by every row while it is in L1/L2). The per-format inner
 * kernel is a {@link RowDot}; this class only prepares the activations, sizes the units and adds the bias.
 *
 * <p>Unit size: at least {@code minChunkBytes} of weight-bytes x rows (so that dispatch, about a microsecond,
 * stays negligible and a small matmul runs on the caller alone), about four units per thread (a thread
 * slowed by another process sheds its share), and at most {@link #MAX_CHUNK_BYTES} (4 MB, for the 1.3 GB LM head;
 * {@code -Drg.vector.maxChunkKb} overrides it for tuning: 512 KB measured no different on the 2-core machine).
 *
 * <p>A group (q/k/v, gate/up, the recurrent block's two branches) puts the units of all its matmuls in one
 * dispatch: the input is prepared once per weight kernel, and no core waits at the end of one matmul while the
 * other finishes its last unit before the next starts (with k/v only a tenth of q, that tail was most of them).
 * One instance per backend; it is the task object of its own dispatches, so nothing is allocated per call.
 */
final class Matmul implements WorkerPool.Task {
    static final long MAX_CHUNK_BYTES = Long.getLong("rg.vector.maxChunkKb", 4096) << 10;
    /**
     * The most weight bytes a prefill unit re-reads per K block ({@link RowDot#reuseBytes} times its rows):
     * 256 KB stays in a Zen 4 core's 1 MB L2 next to the activations. Units sized only by {@link #MAX_CHUNK_BYTES} held
     * up to 820 rows of 7680 x 2560 in bf16, 1.6 MB per K block, streamed again from L3 for each of a 128-token
     * chunk's 32 groups of four rows. {@code -Drg.vector.prefillPanelKb} overrides it for tuning.
     */
    static final long PREFILL_PANEL_BYTES = Long.getLong("rg.vector.prefillPanelKb", 256) << 10;
    /** The most matmuls one group dispatch takes (the forward pass has at most three that share an input). */
    static final int MAX_GROUP = 4;
    private static final int UNITS_PER_THREAD = 4;

    private final WorkerPool pool;
    private final long minChunkBytes;
    private final float[][] scratch;
    /** Per-thread 64-byte-aligned panels for the prefill path ({@link RowDot#reuseBytes}); grown before a dispatch. */
    private final MemorySegment[] panels;
    private final float[][] prepared = new float[MAX_GROUP][0];
    private final float[][] biasValues = new float[MAX_GROUP][0];

    // the current call, read by the workers: part p covers units [firstUnit[p], firstUnit[p + 1])
    private final VectorWeight[] w = new VectorWeight[MAX_GROUP];
    private final RowDot[] dot = new RowDot[MAX_GROUP];
    private final float[][] xp = new float[MAX_GROUP][];
    private final float[][] out = new float[MAX_GROUP][];
    private final float[][] bias = new float[MAX_GROUP][];
    private final int[] rows = new int[MAX_GROUP];
    private final int[] chunkRows = new int[MAX_GROUP];
    private final int[] firstUnit = new int[MAX_GROUP + 1];
    private int parts;
    private int n;

    // the one-element group of run(), kept so that a single matmul allocates nothing either
    private final VectorWeight[] oneWeight = new VectorWeight[1];
    private final VectorWeight[] oneBias = new VectorWeight[1];
    private final HostTensor[] oneOut = new HostTensor[1];

    Matmul(WorkerPool pool, long minChunkBytes) {
        this.pool = pool;
        this.minChunkBytes = minChunkBytes;
        this.scratch = new float[pool.threads()][0];
        this.panels = new MemorySegment[pool.threads()];
    }

    void run(HostTensor x, VectorWeight weight, VectorWeight biasWeight, HostTensor output) {
        oneWeight[0] = weight;
        oneBias[0] = biasWeight;
        oneOut[0] = output;
        try {
            runGroup(x, oneWeight, oneBias, oneOut, 1);
        } finally {
            oneWeight[0] = null;
            oneBias[0] = null;
            oneOut[0] = null;
        }
    }

    /**
     * {@code outputs[p] = x @ weights[p]^T + biases[p]} for {@code p < count} (at most {@link #MAX_GROUP}), in one
     * dispatch. Shapes are the caller's to check.
     */
    void runGroup(HostTensor x, VectorWeight[] weights, VectorWeight[] biases, HostTensor[] outputs, int count) {
        int nRows = x.rows();
        int k = x.cols();
        if (nRows == 0) {
            return;
        }
        int units = 0;
        try {
            for (int p = 0; p < count; p++) {
                VectorWeight weight = weights[p];
                RowDot d = weight.dot();
                int outRows = weight.rows();
                w[p] = weight;
                dot[p] = d;
                out[p] = outputs[p].data();
                rows[p] = outRows;
                xp[p] = preparedFor(p, d, x.data(), nRows, k);
                bias[p] = biases[p] == null ? null : biasFloats(p, biases[p], outRows);
                int reuseBytes = d.blocked(nRows) ? d.reuseBytes(k, nRows) : 0;
                chunkRows[p] = outRows == 0 ? 1 : chunkRows(weight.byteSize() / outRows, nRows, outRows, d.tileRows(), reuseBytes);
                ensureScratch(d.scratchSize(k));
                ensurePanels((long) chunkRows[p] * reuseBytes);
                firstUnit[p] = units;
                units += (outRows + chunkRows[p] - 1) / chunkRows[p];
            }
            firstUnit[count] = units;
            parts = count;
            n = nRows;
            if (units > 0) {
                pool.run(this, units);
            }
        } finally {
            for (int p = 0; p < count; p++) {
                w[p] = null;
                dot[p] = null;
                xp[p] = null;
                out[p] = null;
                bias[p] = null;
            }
            parts = 0;
        }
    }

    /** The activations as part {@code p}'s kernel reads them: prepared once per distinct kernel of the group. */
    private float[] preparedFor(int p, RowDot d, float[] x, int nRows, int k) {
        for (int q = 0; q < p; q++) {
            if (dot[q] == d) {
                return xp[q];
            }
        }
        int need = d.preparedSize(nRows, k);
        if (prepared[p].length < need) {
            prepared[p] = new float[need];
        }
        return d.prepare(x, nRows, k, prepared[p]);
    }

    private float[] biasFloats(int p, VectorWeight biasWeight, int outRows) {
        if (biasValues[p].length < outRows) {
            biasValues[p] = new float[outRows];
        }
        DenseWeights.toFloats(biasWeight, biasValues[p]);
        return biasValues[p];
    }

    private void ensurePanels(long bytes) {
        for (int t = 0; t < panels.length; t++) {
            if (bytes > 0 && (panels[t] == null || panels[t].byteSize() < bytes)) {
                panels[t] = Arena.ofAuto().allocate(bytes, 64);
            }
        }
    }

    private void ensureScratch(int perThread) {
        for (int t = 0; t < scratch.length; t++) {
            if (scratch[t].length < perThread) {
                scratch[t] = new float[perThread];
            }
        }
    }

    /**
     * Weight rows per unit (a multiple of the tile height, except that it never exceeds {@code outRows}).
     * {@code reuseBytes}: bytes per weight row that the unit re-reads (prefill), 0 for none. Which unit computes a
     * row does not change its arithmetic, so results do not depend on the unit size.
     */
    int chunkRows(long rowBytes, int nRows, int outRows, int tile, int reuseBytes) {
        long perRow = Math.max(1, rowBytes) * nRows;
        long min = (minChunkBytes + perRow - 1) / perRow;
        long balanced = ((long) outRows + (long) pool.threads() * UNITS_PER_THREAD - 1) / ((long) pool.threads() * UNITS_PER_THREAD);
        long max = Math.max(1, MAX_CHUNK_BYTES / Math.max(1, rowBytes));
        if (reuseBytes > 0) {
            max = Math.min(max, Math.max(tile, PREFILL_PANEL_BYTES / reuseBytes));
            min = Math.min(min, max);
        }
        long c = Math.max(min, Math.min(balanced, max));
        c = (c + tile - 1) / tile * tile;
        if (c == (balanced + tile - 1) / tile * tile && c < outRows) {
            c = evenSplit(outRows, tile, Math.max(1, (min + tile - 1) / tile), c / tile, pool.threads());
        }
        return (int) Math.min(c, outRows);
    }

    /**
     * Rows per unit, {@code tile} times the {@code t} in {@code [tMin, tMax]} whose units end soonest when the threads
     * take them in turn (the busiest thread's rows: units per thread, rounded up, times the unit), the largest such
     * {@code t} on a tie (fewer dispatches), no smaller than half of {@code tMax}. Rounding the balanced size up to a whole tile can leave an odd number of
     * units: 2560 rows in tiles of 128 at two threads made 7 units, 4 on one thread and 3 on the other, the busier
     * one 20% over an even split; 10 units of 256 rows split evenly. Which unit computes a row never changes its bits.
     */
    static long evenSplit(int outRows, int tile, long tMin, long tMax, int threads) {
        long best = tMax;
        long bestSpan = Long.MAX_VALUE;
        // no split beats an exactly even one: once reached, smaller units could only tie (this runs on every matmul)
        long even = ((long) outRows + threads - 1) / threads;
        for (long t = tMax; t >= Math.max(Math.min(tMin, tMax), tMax / 2) && bestSpan > even; t--) { // at most halving the unit
            long rows = t * tile;
            long units = (outRows + rows - 1) / rows;
            long span = (units + threads - 1) / threads * Math.min(rows, outRows);
            if (span < bestSpan) {
                best = t;
                bestSpan = span;
            }
        }
        return best * tile;
    }

    @Override
    public void run(int unit, int worker) {
        int p = 0;
        while (p + 1 < parts && unit >= firstUnit[p + 1]) {
            p++;
        }
        int j0 = (unit - firstUnit[p]) * chunkRows[p];
        int j1 = Math.min(rows[p], j0 + chunkRows[p]);
        float[] o = out[p];
        dot[p].dot(w[p], xp[p], n, j0, j1, o, scratch[worker], panels[worker]);
        float[] b = bias[p];
        if (b != null) {
            int stride = rows[p];
            for (int i = 0; i < n; i++) {
                int base = i * stride;
                for (int j = j0; j < j1; j++) {
                    o[base + j] += b[j];
                }
            }
        }
    }
}
