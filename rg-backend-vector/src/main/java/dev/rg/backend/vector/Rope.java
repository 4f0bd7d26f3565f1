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
final class Rope {
    private float[] invFreq = new float[0];
    private float[] cos = new float[0];
    private float[] sin = new float[0];
    private int cachedRot = -1;
    private float cachedTheta = Float.NaN;

    void run(float[] x, SeqBatch seq, int rows, int cols, int heads, int headDim, int rotaryDim, float theta) {
        int half = rotaryDim / 2;
        if (half == 0) {
            return;
        }
        if (rotaryDim != cachedRot || Float.compare(theta, cachedTheta) != 0) {
            invFreq = new float[half];
            cos = new float[half];
            sin = new float[half];
            for (int j = 0; j < half; j++) {
                float exponent = (float) (2 * j) / rotaryDim;
                invFreq[j] = (float) (1.0 / (float) Math.pow(theta, exponent));
            }
            cachedRot = rotaryDim;
            cachedTheta = theta;
        }
        for (int row = 0; row < rows; row++) {
            int pos = seq.position(row);
            for (int j = 0; j < half; j++) {
                float angle = pos * invFreq[j];
                cos[j] = (float) Math.cos(angle);
                sin[j] = (float) Math.sin(angle);
            }
            for (int h = 0; h < heads; h++) {
                int b = row * cols + h * headDim;
                int j = 0;
                for (int bound = half - L; j <= bound; j += L) {
                    FloatVector first = FloatVector.fromArray(F, x, b + j);
                    FloatVector second = FloatVector.fromArray(F, x, b + j + half);
                    FloatVector c = FloatVector.fromArray(F, cos, j);
                    FloatVector s = FloatVector.fromArray(F, sin, j);
                    first.mul(c).sub(second.mul(s)).intoArray(x, b + j);
                    second.mul(c).add(first.mul(s)).intoArray(x, b + j + half);
                }
                for (; j < half; j++) {
                    float first = x[b + j];
                    float second = x[b + j + half];
                    x[b + j] = first * cos[j] - second * sin[j];
                    x[b + j + half] = second * cos[j] + first * sin[j];
                }
            }
        }
    }
}
