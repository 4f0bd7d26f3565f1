package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The elementwise kernels: GELU, GELU x up, mul, add, soft cap, fill. They are single-threaded: the largest
 * (soft cap over 256000 logits) takes tens of microseconds, about what a dispatch to the workers would add.
 * Every loop writes element i after reading element i only, so an output may alias an input.
 */
final class ElementwiseOps {
    private ElementwiseOps() {}

    static void gelu(float[] x, float[] out, int n) {
        int i = 0;
        for (int bound = n - L; i <= bound; i += L) {
            VectorMath.gelu(FloatVector.fromArray(F, x, i)).intoArray(out, i);
        }
        for (; i < n; i++) {
            out[i] = VectorMath.gelu(x[i]);
        }
    }

    static void geluMul(float[] gate, float[] up, float[] out, int n) {
        int i = 0;
        for (int bound = n - L; i <= bound; i += L) {
            VectorMath.gelu(FloatVector.fromArray(F, gate, i)).mul(FloatVector.fromArray(F, up, i)).intoArray(out, i);
        }
        for (; i < n; i++) {
            out[i] = VectorMath.gelu(gate[i]) * up[i];
        }
    }

    static void mul(float[] a, float[] b, float[] out, int n) {
        int i = 0;
        for (int bound = n - L; i <= bound; i += L) {
            FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        }
        for (; i < n; i++) {
            out[i] = a[i] * b[i];
        }
    }

    static void add(float[] a, float[] b, float[] out, int n) {
        int i = 0;
        for (int bound = n - L; i <= bound; i += L) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        }
        for (; i < n; i++) {
            out[i] = a[i] + b[i];
        }
    }

    /** {@code x = cap * tanh(x / cap)}. */
    static void softCap(float[] x, float cap, int n) {
        int i = 0;
        for (int bound = n - L; i <= bound; i += L) {
            FloatVector.fromArray(F, x, i).div(cap).lanewise(VectorOperators.TANH).mul(cap).intoArray(x, i);
        }
        for (; i < n; i++) {
            x[i] = (float) (cap * Math.tanh(x[i] / cap));
        }
    }

    static void fill(float[] x, float value) {
        Arrays.fill(x, value);
    }
}
