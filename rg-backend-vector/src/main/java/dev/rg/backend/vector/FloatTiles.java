package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Register tiles over float arrays: the second half of the quantised formats' batched path ({@link QuantRowDot}),
 * which first dequantises a K block of four weight rows into per-thread scratch (L1-resident) and then reuses it
 * for every activation row. Rows of the weight tile are {@code ws} floats apart, rows of the activations
 * {@code xs}; {@code len} elements from the given offsets are summed (vector part, then a scalar tail).
 * {@code first}: overwrite {@code out}, else add to it (K blocks after the first).
 */
final class FloatTiles {
    private FloatTiles() {}

    static void put(float[] out, int i, float v, boolean first) {
        out[i] = first ? v : out[i] + v;
    }

    static float dot(float[] w, int wb, float[] x, int xb, int len) {
        int lv = len / L * L;
        FloatVector a = FloatVector.zero(F);
        FloatVector b = a;
        int c = 0;
        for (; c + 2 * L <= lv; c += 2 * L) {
            a = FloatVector.fromArray(F, w, wb + c).fma(FloatVector.fromArray(F, x, xb + c), a);
            b = FloatVector.fromArray(F, w, wb + c + L).fma(FloatVector.fromArray(F, x, xb + c + L), b);
        }
        for (; c < lv; c += L) {
            a = FloatVector.fromArray(F, w, wb + c).fma(FloatVector.fromArray(F, x, xb + c), a);
        }
        float sum = a.add(b).reduceLanes(VectorOperators.ADD);
        for (; c < len; c++) {
            sum += w[wb + c] * x[xb + c];
        }
        return sum;
    }

    private static float tail(float[] w, int wb, float[] x, int xb, int lv, int len) {
        float sum = 0f;
        for (int c = lv; c < len; c++) {
            sum += w[wb + c] * x[xb + c];
        }
        return sum;
    }

    /** One activation row against four weight rows. */
    static void tile1x4(float[] w, int wb, int ws, float[] x, int xb, int len, float[] out, int o, boolean first) {
        int lv = len / L * L;
        int w1 = wb + ws;
        int w2 = w1 + ws;
        int w3 = w2 + ws;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int c = 0; c < lv; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xb + c);
            a0 = FloatVector.fromArray(F, w, wb + c).fma(xv, a0);
            a1 = FloatVector.fromArray(F, w, w1 + c).fma(xv, a1);
            a2 = FloatVector.fromArray(F, w, w2 + c).fma(xv, a2);
            a3 = FloatVector.fromArray(F, w, w3 + c).fma(xv, a3);
        }
        put(out, o, a0.reduceLanes(VectorOperators.ADD) + tail(w, wb, x, xb, lv, len), first);
        put(out, o + 1, a1.reduceLanes(VectorOperators.ADD) + tail(w, w1, x, xb, lv, len), first);
        put(out, o + 2, a2.reduceLanes(VectorOperators.ADD) + tail(w, w2, x, xb, lv, len), first);
        put(out, o + 3, a3.reduceLanes(VectorOperators.ADD) + tail(w, w3, x, xb, lv, len), first);
    }

    /** Two activation rows against four weight rows (a batch's rows past its last group of four). */
    static void tile2x4(float[] w, int wb, int ws, float[] x, int xb0, int xs, int len, float[] out, int o, int outCols,
            boolean first) {
        int lv = len / L * L;
        int w1 = wb + ws;
        int w2 = w1 + ws;
        int w3 = w2 + ws;
        int xb1 = xb0 + xs;
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        for (int c = 0; c < lv; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, w, wb + c);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + c);
            FloatVector v3 = FloatVector.fromArray(F, w, w3 + c);
            FloatVector xv = FloatVector.fromArray(F, x, xb0 + c);
            c00 = v0.fma(xv, c00);
            c01 = v1.fma(xv, c01);
            c02 = v2.fma(xv, c02);
            c03 = v3.fma(xv, c03);
            xv = FloatVector.fromArray(F, x, xb1 + c);
            c10 = v0.fma(xv, c10);
            c11 = v1.fma(xv, c11);
            c12 = v2.fma(xv, c12);
            c13 = v3.fma(xv, c13);
        }
        put(out, o, c00.reduceLanes(VectorOperators.ADD) + tail(w, wb, x, xb0, lv, len), first);
        put(out, o + 1, c01.reduceLanes(VectorOperators.ADD) + tail(w, w1, x, xb0, lv, len), first);
        put(out, o + 2, c02.reduceLanes(VectorOperators.ADD) + tail(w, w2, x, xb0, lv, len), first);
        put(out, o + 3, c03.reduceLanes(VectorOperators.ADD) + tail(w, w3, x, xb0, lv, len), first);
        int q = o + outCols;
        put(out, q, c10.reduceLanes(VectorOperators.ADD) + tail(w, wb, x, xb1, lv, len), first);
        put(out, q + 1, c11.reduceLanes(VectorOperators.ADD) + tail(w, w1, x, xb1, lv, len), first);
        put(out, q + 2, c12.reduceLanes(VectorOperators.ADD) + tail(w, w2, x, xb1, lv, len), first);
        put(out, q + 3, c13.reduceLanes(VectorOperators.ADD) + tail(w, w3, x, xb1, lv, len), first);
    }

    /** Four activation rows against four weight rows: each weight vector feeds four FMAs, each activation vector four. */
    static void tile4x4(float[] w, int wb, int ws, float[] x, int xb0, int xs, int len, float[] out, int o, int outCols,
            boolean first) {
        int lv = len / L * L;
        int w1 = wb + ws;
        int w2 = w1 + ws;
        int w3 = w2 + ws;
        int xb1 = xb0 + xs;
        int xb2 = xb1 + xs;
        int xb3 = xb2 + xs;
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        FloatVector c23 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c32 = c00;
        FloatVector c33 = c00;
        for (int c = 0; c < lv; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, w, wb + c);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + c);
            FloatVector v3 = FloatVector.fromArray(F, w, w3 + c);
            FloatVector xv = FloatVector.fromArray(F, x, xb0 + c);
            c00 = v0.fma(xv, c00);
            c01 = v1.fma(xv, c01);
            c02 = v2.fma(xv, c02);
            c03 = v3.fma(xv, c03);
            xv = FloatVector.fromArray(F, x, xb1 + c);
            c10 = v0.fma(xv, c10);
            c11 = v1.fma(xv, c11);
            c12 = v2.fma(xv, c12);
            c13 = v3.fma(xv, c13);
            xv = FloatVector.fromArray(F, x, xb2 + c);
            c20 = v0.fma(xv, c20);
            c21 = v1.fma(xv, c21);
            c22 = v2.fma(xv, c22);
            c23 = v3.fma(xv, c23);
            xv = FloatVector.fromArray(F, x, xb3 + c);
            c30 = v0.fma(xv, c30);
            c31 = v1.fma(xv, c31);
            c32 = v2.fma(xv, c32);
            c33 = v3.fma(xv, c33);
        }
        // reductions stay in this method: a vector passed to a helper that C2 does not inline would be boxed
        put(out, o, c00.reduceLanes(VectorOperators.ADD) + tail(w, wb, x, xb0, lv, len), first);
        put(out, o + 1, c01.reduceLanes(VectorOperators.ADD) + tail(w, w1, x, xb0, lv, len), first);
        put(out, o + 2, c02.reduceLanes(VectorOperators.ADD) + tail(w, w2, x, xb0, lv, len), first);
        put(out, o + 3, c03.reduceLanes(VectorOperators.ADD) + tail(w, w3, x, xb0, lv, len), first);
        int q = o + outCols;
        put(out, q, c10.reduceLanes(VectorOperators.ADD) + tail(w, wb, x, xb1, lv, len), first);
        put(out, q + 1, c11.reduceLanes(VectorOperators.ADD) + tail(w, w1, x, xb1, lv, len), first);
        put(out, q + 2, c12.reduceLanes(VectorOperators.ADD) + tail(w, w2, x, xb1, lv, len), first);
        put(out, q + 3, c13.reduceLanes(VectorOperators.ADD) + tail(w, w3, x, xb1, lv, len), first);
        q += outCols;
        put(out, q, c20.reduceLanes(VectorOperators.ADD) + tail(w, wb, x, xb2, lv, len), first);
        put(out, q + 1, c21.reduceLanes(VectorOperators.ADD) + tail(w, w1, x, xb2, lv, len), first);
        put(out, q + 2, c22.reduceLanes(VectorOperators.ADD) + tail(w, w2, x, xb2, lv, len), first);
        put(out, q + 3, c23.reduceLanes(VectorOperators.ADD) + tail(w, w3, x, xb2, lv, len), first);
        q += outCols;
        put(out, q, c30.reduceLanes(VectorOperators.ADD) + tail(w, wb, x, xb3, lv, len), first);
        put(out, q + 1, c31.reduceLanes(VectorOperators.ADD) + tail(w, w1, x, xb3, lv, len), first);
        put(out, q + 2, c32.reduceLanes(VectorOperators.ADD) + tail(w, w2, x, xb3, lv, len), first);
        put(out, q + 3, c33.reduceLanes(VectorOperators.ADD) + tail(w, w3, x, xb3, lv, len), first);
    }
}
