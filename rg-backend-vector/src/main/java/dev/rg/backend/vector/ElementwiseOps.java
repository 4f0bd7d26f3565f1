package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The elementwise kernels: GELU, GELU x up, mul, add, soft cap, fill, each over elements {@code [from, to)}. A decode
 * step's arrays (a few thousand elements; the soft cap over 256000 logits takes tens of microseconds) run on the
 * caller; a prefill's (128 x 7680 for the MLP) are split into element ranges over the workers ({@link #run}). Every
 * loop writes element i after reading element i only, so an output may alias an input.
 */
final class ElementwiseOps implements WorkerPool.Task {
    static final int GELU = 0;
    static final int GELU_MUL = 1;
    static final int MUL = 2;
    static final int ADD = 3;
    static final int SOFT_CAP = 4;
    /** Cost of one element in bytes-equivalent for the split: the tanh of GELU and the soft cap is a few dozen ops. */
    private static final long[] COST = {32, 32, 12, 12, 32};

    private final WorkerPool pool;
    private final long minChunkBytes;

    // the current call
    private int op;
    private float[] a;
    private float[] b;
    private float[] out;
    private float cap;
    private int n;
    private int perUnit;

    ElementwiseOps(WorkerPool pool, long minChunkBytes) {
        this.pool = pool;
        this.minChunkBytes = minChunkBytes;
    }

    /** {@code op} over {@code count} elements ({@code b} unused by GELU and the soft cap, {@code c} by all but the cap). */
    void run(int operation, float[] x, float[] y, float[] o, float c, int count) {
        // units are whole vectors, so that only the last one has a scalar tail
        int vectors = (count + L - 1) / L;
        int perUnitVectors = Parallel.itemsPerUnit(vectors, COST[operation] * L, minChunkBytes, pool.threads());
        if (perUnitVectors >= vectors) {
            apply(operation, x, y, o, c, 0, count);
            return;
        }
        op = operation;
        a = x;
        b = y;
        out = o;
        cap = c;
        n = count;
        perUnit = perUnitVectors * L;
        try {
            pool.run(this, (count + perUnit - 1) / perUnit);
        } finally {
            a = b = out = null;
        }
    }

    @Override
    public void run(int unit, int worker) {
        int from = unit * perUnit;
        apply(op, a, b, out, cap, from, Math.min(n, from + perUnit));
    }

    private static void apply(int op, float[] a, float[] b, float[] out, float cap, int from, int to) {
        switch (op) {
            case GELU -> gelu(a, out, from, to);
            case GELU_MUL -> geluMul(a, b, out, from, to);
            case MUL -> mul(a, b, out, from, to);
            case ADD -> add(a, b, out, from, to);
            case SOFT_CAP -> softCap(a, cap, from, to);
            default -> throw new IllegalArgumentException("elementwise op " + op);
        }
    }

    static void gelu(float[] x, float[] out, int from, int to) {
        int i = from;
        for (int bound = to - L; i <= bound; i += L) {
            VectorMath.gelu(FloatVector.fromArray(F, x, i)).intoArray(out, i);
        }
        for (; i < to; i++) {
            out[i] = VectorMath.gelu(x[i]);
        }
    }

    static void geluMul(float[] gate, float[] up, float[] out, int from, int to) {
        int i = from;
        for (int bound = to - L; i <= bound; i += L) {
            VectorMath.gelu(FloatVector.fromArray(F, gate, i)).mul(FloatVector.fromArray(F, up, i)).intoArray(out, i);
        }
        for (; i < to; i++) {
            out[i] = VectorMath.gelu(gate[i]) * up[i];
        }
    }

    static void mul(float[] a, float[] b, float[] out, int from, int to) {
        int i = from;
        for (int bound = to - L; i <= bound; i += L) {
            FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        }
        for (; i < to; i++) {
            out[i] = a[i] * b[i];
        }
    }

    static void add(float[] a, float[] b, float[] out, int from, int to) {
        int i = from;
        for (int bound = to - L; i <= bound; i += L) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        }
        for (; i < to; i++) {
            out[i] = a[i] + b[i];
        }
    }

    /** {@code x = cap * tanh(x / cap)}. */
    static void softCap(float[] x, float cap, int from, int to) {
        int i = from;
        for (int bound = to - L; i <= bound; i += L) {
            FloatVector.fromArray(F, x, i).div(cap).lanewise(VectorOperators.TANH).mul(cap).intoArray(x, i);
        }
        for (; i < to; i++) {
            x[i] = (float) (cap * Math.tanh(x[i] / cap));
        }
    }

    static void fill(float[] x, float value) {
        Arrays.fill(x, value);
    }
}
