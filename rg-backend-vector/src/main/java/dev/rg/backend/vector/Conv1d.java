package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import dev.rg.api.backend.SeqBatch;
import jdk.incubator.vector.FloatVector;

/**
 * Causal depthwise conv1d over time with a carried state of the last K-1 inputs, vectorised over channels.
 * The taps ({@code [C, 1, K]}, channel-major) are transposed once per call into {@code [K][C]} scratch so
 * that tap k of consecutive channels is one vector load; for each output step the K source rows (from the
 * state for steps before this call, else from x) are resolved before the channel loop.
 */
final class Conv1d {
    private float[] taps = new float[0];
    private float[] bias = new float[0];
    private float[] flat = new float[0];
    private float[][] srcArray = new float[0][];
    private int[] srcOffset = new int[0];

    void run(float[] x, SeqBatch seq, VectorWeight kernel, VectorWeight biasW, float[] state, float[] out, int c, int k) {
        int kc = k * c;
        if (taps.length < kc) {
            taps = new float[kc];
            flat = new float[kc];
        }
        if (bias.length < c) {
            bias = new float[c];
        }
        if (srcArray.length < k) {
            srcArray = new float[k][];
            srcOffset = new int[k];
        }
        DenseWeights.toFloats(kernel, flat);
        for (int ch = 0; ch < c; ch++) {
            for (int tap = 0; tap < k; tap++) {
                taps[tap * c + ch] = flat[ch * k + tap];
            }
        }
        DenseWeights.toFloats(biasW, bias);
        int hist = k - 1;
        int len = seq.length();
        for (int s = 0; s < seq.batch(); s++) {
            int stateBase = s * hist * c;
            for (int t = 0; t < len; t++) {
                for (int tap = 0; tap < k; tap++) {
                    int src = t + tap - hist; // time index within this call; negative = from the state
                    if (src >= 0) {
                        srcArray[tap] = x;
                        srcOffset[tap] = (s * len + src) * c;
                    } else {
                        srcArray[tap] = state;
                        srcOffset[tap] = stateBase + (hist + src) * c;
                    }
                }
                step(out, (s * len + t) * c, c, k);
            }
            // the state keeps the last K-1 inputs, oldest first
            if (len >= hist) {
                System.arraycopy(x, (s * len + len - hist) * c, state, stateBase, hist * c);
            } else {
                System.arraycopy(state, stateBase + len * c, state, stateBase, (hist - len) * c);
                System.arraycopy(x, s * len * c, state, stateBase + (hist - len) * c, len * c);
            }
        }
        java.util.Arrays.fill(srcArray, null);
    }

    private void step(float[] out, int ob, int c, int k) {
        float[][] arr = srcArray;
        int[] off = srcOffset;
        float[] tp = taps;
        int ch = 0;
        for (int bound = c - L; ch <= bound; ch += L) {
            FloatVector acc = FloatVector.fromArray(F, bias, ch);
            for (int tap = 0; tap < k; tap++) {
                acc = FloatVector.fromArray(F, tp, tap * c + ch).fma(FloatVector.fromArray(F, arr[tap], off[tap] + ch), acc);
            }
            acc.intoArray(out, ob + ch);
        }
        for (; ch < c; ch++) {
            float acc = bias[ch];
            for (int tap = 0; tap < k; tap++) {
                acc += tp[tap * c + ch] * arr[tap][off[tap] + ch];
            }
            out[ob + ch] = acc;
        }
    }
}
