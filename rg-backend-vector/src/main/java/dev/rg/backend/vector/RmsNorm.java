package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * RMSNorm with a zero-centred scale, row-wise: {@code out = x * (1 / sqrt(mean(x^2) + eps)) * (1 + w)}, the
 * products in the reference's order. The scale weight is converted to {@code 1 + w} once per call into
 * scratch (a few thousand floats).
 */
final class RmsNorm {
    private float[] scale = new float[0];

    void run(float[] x, VectorWeight w, float eps, float[] out, int rows, int h) {
        if (scale.length < h) {
            scale = new float[h];
        }
        float[] s = scale;
        DenseWeights.toFloats(w, s);
        int c = 0;
        for (int bound = h - L; c <= bound; c += L) {
            FloatVector.fromArray(F, s, c).add(1f).intoArray(s, c);
        }
        for (; c < h; c++) {
            s[c] = 1f + s[c];
        }
        for (int r = 0; r < rows; r++) {
            int b = r * h;
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
}
