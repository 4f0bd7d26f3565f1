package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import dev.rg.api.backend.SeqBatch;
import jdk.incubator.vector.FloatVector;

/**
 * Partial rotary embedding in place, NeoX pairing (j, j + rotaryDim/2) on the first {@code rotaryDim} dims of
 * each head. Angles and their cos/sin are computed per row exactly as the reference does (float angle, double
 * cos/sin rounded to float: the positions reach thousands, where a vector polynomial would drift), then
 * applied to every head with vector multiplies in the reference's order (no FMA), so results are bit-equal.
 */
final class Rope implements WorkerPool.Task {
    private final WorkerPool pool;
    private final long minChunkBytes;
    private float[] invFreq = new float[0];
    /** Per worker: the cos/sin of the row being rotated. */
    private final float[][] cos;
    private final float[][] sin;
    private int cachedRot = -1;
    private float cachedTheta = Float.NaN;

    // the current call
    private float[] x;
    private SeqBatch seq;
    private int rows;
    private int cols;
    private int heads;
    private int headDim;
    private int half;
    private int rowsPerUnit;

    Rope(WorkerPool pool, long minChunkBytes) {
        this.pool = pool;
        this.minChunkBytes = minChunkBytes;
        this.cos = new float[pool.threads()][0];
        this.sin = new float[pool.threads()][0];
    }

    /**
     * Rows are independent (each has its own position): a prompt chunk's rows are split over the workers, a decode
     * step's few rows run on the caller ({@link Parallel}).
     */
    void run(float[] xs, SeqBatch sq, int nRows, int width, int nHeads, int dim, int rotaryDim, float theta) {
        int h = rotaryDim / 2;
        if (h == 0) {
            return;
        }
        if (rotaryDim != cachedRot || Float.compare(theta, cachedTheta) != 0) {
            invFreq = new float[h];
            for (int j = 0; j < h; j++) {
                float exponent = (float) (2 * j) / rotaryDim;
                invFreq[j] = (float) (1.0 / (float) Math.pow(theta, exponent));
            }
            for (int t = 0; t < cos.length; t++) {
                cos[t] = new float[h];
                sin[t] = new float[h];
            }
            cachedRot = rotaryDim;
            cachedTheta = theta;
        }
        x = xs;
        seq = sq;
        rows = nRows;
        cols = width;
        heads = nHeads;
        headDim = dim;
        half = h;
        // per row: the rotated dims read and written, plus h cos/sin pairs (each worth a few dozen bytes of traffic)
        rowsPerUnit = Parallel.itemsPerUnit(nRows, 8L * nHeads * rotaryDim + 64L * h, minChunkBytes, pool.threads());
        try {
            pool.run(this, (nRows + rowsPerUnit - 1) / rowsPerUnit);
        } finally {
            x = null;
            seq = null;
        }
    }

    @Override
    public void run(int unit, int worker) {
        int r1 = Math.min(rows, (unit + 1) * rowsPerUnit);
        for (int r = unit * rowsPerUnit; r < r1; r++) {
            row(r, cos[worker], sin[worker]);
        }
    }

    private void row(int row, float[] cs, float[] sn) {
        int pos = seq.position(row);
        for (int j = 0; j < half; j++) {
            float angle = pos * invFreq[j];
            cs[j] = (float) Math.cos(angle);
            sn[j] = (float) Math.sin(angle);
        }
        for (int h = 0; h < heads; h++) {
            int b = row * cols + h * headDim;
            int j = 0;
            for (int bound = half - L; j <= bound; j += L) {
                FloatVector first = FloatVector.fromArray(F, x, b + j);
                FloatVector second = FloatVector.fromArray(F, x, b + j + half);
                FloatVector c = FloatVector.fromArray(F, cs, j);
                FloatVector s = FloatVector.fromArray(F, sn, j);
                first.mul(c).sub(second.mul(s)).intoArray(x, b + j);
                second.mul(c).add(first.mul(s)).intoArray(x, b + j + half);
            }
            for (; j < half; j++) {
                float first = x[b + j];
                float second = x[b + j + half];
                x[b + j] = first * cs[j] - second * sn[j];
                x[b + j + half] = second * cs[j] + first * sn[j];
            }
        }
    }
}
