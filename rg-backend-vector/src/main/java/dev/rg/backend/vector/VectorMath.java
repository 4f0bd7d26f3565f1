package dev.rg.backend.vector;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Lane-wise transcendental helpers. EXP, TANH, LOG1P are the Vector API's own operators, which C2 compiles
 * to the JDK's SVML-derived stubs (within 1 ulp of float); these methods are tiny so that C2 always inlines
 * them (a vector crossing a non-inlined call would be boxed on the heap).
 */
final class VectorMath {
    private VectorMath() {}

    /** sqrt(2/pi), as the reference computes it in double and rounds once. */
    static final float GELU_C = (float) Math.sqrt(2.0 / Math.PI);

    /** {@code gelu_pytorch_tanh}: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    static FloatVector gelu(FloatVector x) {
        FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(GELU_C);
        return x.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f));
    }

    /** Scalar twin of {@link #gelu(FloatVector)} for tails (the reference formula, in double like the reference). */
    static float gelu(float x) {
        double inner = Math.sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x);
        return (float) (0.5 * x * (1.0 + Math.tanh(inner)));
    }

    /** 1 / (1 + e^-x). */
    static FloatVector sigmoid(FloatVector x) {
        return x.broadcast(1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    /** Scalar sigmoid, in double as the reference. */
    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-(double) x)));
    }
}
