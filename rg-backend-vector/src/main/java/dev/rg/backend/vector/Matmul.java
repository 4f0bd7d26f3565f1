package dev.rg.backend.vector;

import dev.rg.api.tensor.HostTensor;

/**
 * {@code out = x @ w^T + bias} for every weight format, split over threads by weight rows.
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
 * One instance per backend; it is the task object of its own dispatches, so nothing is allocated per call.
 */
final class Matmul implements WorkerPool.Task {
    static final long MAX_CHUNK_BYTES = Long.getLong("rg.vector.maxChunkKb", 4096) << 10;
    private static final int UNITS_PER_THREAD = 4;

    private final WorkerPool pool;
    private final long minChunkBytes;
    private float[] prepared = new float[0];
    private float[] biasValues = new float[0];
    private final float[][] scratch;

    // the current call, read by the workers
    private VectorWeight w;
    private RowDot dot;
    private float[] xp;
    private int n;
    private float[] out;
    private float[] bias;
    private int rows;
    private int chunkRows;

    Matmul(WorkerPool pool, long minChunkBytes) {
        this.pool = pool;
        this.minChunkBytes = minChunkBytes;
        this.scratch = new float[pool.threads()][0];
    }

    void run(HostTensor x, VectorWeight weight, VectorWeight biasWeight, HostTensor output) {
        int nRows = x.rows();
        int k = x.cols();
        int outRows = weight.rows();
        if (nRows == 0 || outRows == 0) {
            return;
        }
        RowDot d = weight.dot();
        int need = d.preparedSize(nRows, k);
        if (prepared.length < need) {
            prepared = new float[need];
        }
        int perThread = d.scratchSize(k);
        for (int t = 0; t < scratch.length; t++) {
            if (scratch[t].length < perThread) {
                scratch[t] = new float[perThread];
            }
        }
        float[] b = null;
        if (biasWeight != null) {
            if (biasValues.length < outRows) {
                biasValues = new float[outRows];
            }
            DenseWeights.toFloats(biasWeight, biasValues);
            b = biasValues;
        }
        w = weight;
        dot = d;
        xp = d.prepare(x.data(), nRows, k, prepared);
        n = nRows;
        out = output.data();
        bias = b;
        rows = outRows;
        chunkRows = chunkRows(weight.byteSize() / outRows, nRows, outRows, d.tileRows());
        try {
            pool.run(this, (outRows + chunkRows - 1) / chunkRows);
        } finally {
            w = null;
            xp = null;
            out = null;
        }
    }

    /** Weight rows per unit (a multiple of the tile height, except that it never exceeds {@code outRows}). */
    int chunkRows(long rowBytes, int nRows, int outRows, int tile) {
        long perRow = Math.max(1, rowBytes) * nRows;
        long min = (minChunkBytes + perRow - 1) / perRow;
        long balanced = ((long) outRows + (long) pool.threads() * UNITS_PER_THREAD - 1) / ((long) pool.threads() * UNITS_PER_THREAD);
        long max = Math.max(1, MAX_CHUNK_BYTES / Math.max(1, rowBytes));
        long c = Math.max(min, Math.min(balanced, max));
        c = (c + tile - 1) / tile * tile;
        return (int) Math.min(c, outRows);
    }

    @Override
    public void run(int unit, int worker) {
        int j0 = unit * chunkRows;
        int j1 = Math.min(rows, j0 + chunkRows);
        dot.dot(w, xp, n, j0, j1, out, scratch[worker]);
        float[] b = bias;
        if (b != null) {
            for (int i = 0; i < n; i++) {
                int o = i * rows;
                for (int j = j0; j < j1; j++) {
                    out[o + j] += b[j];
                }
            }
        }
    }
}
