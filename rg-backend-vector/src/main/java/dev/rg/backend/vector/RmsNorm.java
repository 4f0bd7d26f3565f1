package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * RMSNorm with a zero-centred scale, row-wise: {@code out = x * (1 / sqrt(mean(x^2) + eps)) * (1 + w)}, the
 * products in the reference's order. The scale weight is converted to {@code 1 + w} once per call into
 * scratch (a few thousand floats). Rows are independent: a prefill's rows are split over the workers (units of
 * whole rows, at least {@code minChunkBytes} of activations each); a decode step's few rows run on the caller.
 */
final class RmsNorm implements WorkerPool.Task {
    private final WorkerPool pool;
    private final long minChunkBytes;
    private float[] scale = new float[0];

    // the current call
    private float[] x;
    private float[] out;
    private float eps;
    private int rows;
    private int h;
    private int rowsPerUnit;

    RmsNorm(WorkerPool pool, long minChunkBytes) {
        this.pool = pool;
        this.minChunkBytes = minChunkBytes;
    }

    void run(float[] xs, VectorWeight w, float epsilon, float[] o, int nRows, int width) {
        if (scale.length < width) {
            scale = new float[width];
        }
        float[] s = scale;
        DenseWeights.toFloats(w, s);
        int c = 0;
        for (int bound = width - L; c <= bound; c += L) {
            FloatVector.fromArray(F, s, c).add(1f).intoArray(s, c);
        }
        for (; c < width; c++) {
            s[c] = 1f + s[c];
        }
        x = xs;
        out = o;
        eps = epsilon;
        rows = nRows;
        h = width;
        rowsPerUnit = Parallel.itemsPerUnit(nRows, 8L * width, minChunkBytes, pool.threads());
        try {
            pool.run(this, (nRows + rowsPerUnit - 1) / rowsPerUnit);
        } finally {
            x = null;
            out = null;
        }
    }

    @Override
    public void run(int unit, int worker) {
        int r1 = Math.min(rows, (unit + 1) * rowsPerUnit);
        for (int r = unit * rowsPerUnit; r < r1; r++) {
            row(x, scale, eps, out, r * h, h);
        }
    }

    private static void row(float[] x, float[] s, float eps, float[] out, int b, int h) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        int i = 0;
        for (int bound = h - 2 * L; i <= bound; i += 2 * L) {
            FloatVector v0 = FloatVector.fromArray(F, x, b + i);
            FloatVector v1 = FloatVector.fromArray(F, x, b + i + L);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
        }
        double ss = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < h; i++) {
            ss += (double) x[b + i] * x[b + i];
        }
        // the reference's rounding steps: mean in double, rounded to float, + eps, sqrt in double
        float inv = (float) (1.0 / Math.sqrt((float) (ss / h) + eps));
        i = 0;
        for (int bound = h - L; i <= bound; i += L) {
            FloatVector.fromArray(F, x, b + i).mul(inv).mul(FloatVector.fromArray(F, s, i)).intoArray(out, b + i);
        }
        for (; i < h; i++) {
            out[b + i] = x[b + i] * inv * s[i];
        }
    }
}
