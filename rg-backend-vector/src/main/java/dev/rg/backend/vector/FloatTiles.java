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

    /**
     * The end of a tile of {@code rows} activation rows x 4 weight rows whose accumulators are parked from {@code acc[a]}
     * on (row-major): each lane sum plus its scalar tail, written to or added to {@code out}.
     */
    private static void finish(float[] acc, int a, int rows, float[] w, int wb, int ws, float[] x, int xb0, int xs, int lv,
            int len, float[] out, int o, int outCols, boolean first) {
        for (int i = 0; i < rows; i++) {
            int xb = xb0 + i * xs;
            int q = o + i * outCols;
            for (int c = 0; c < 4; c++) {
                put(out, q + c, Accumulators.sum(acc, a, 4 * i + c) + tail(w, wb + c * ws, x, xb, lv, len), first);
            }
        }
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
            boolean first, float[] acc, int a) {
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
        // parked, then reduced by a helper (see Accumulators)
        c00.intoArray(acc, a);
        c01.intoArray(acc, a + L);
        c02.intoArray(acc, a + 2 * L);
        c03.intoArray(acc, a + 3 * L);
        c10.intoArray(acc, a + 4 * L);
        c11.intoArray(acc, a + 5 * L);
        c12.intoArray(acc, a + 6 * L);
        c13.intoArray(acc, a + 7 * L);
        finish(acc, a, 2, w, wb, ws, x, xb0, xs, lv, len, out, o, outCols, first);
    }

    /** Four activation rows against four weight rows: each weight vector feeds four FMAs, each activation vector four. */
    static void tile4x4(float[] w, int wb, int ws, float[] x, int xb0, int xs, int len, float[] out, int o, int outCols,
            boolean first, float[] acc, int a) {
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
        // parked, then reduced by a helper (see Accumulators)
        c00.intoArray(acc, a);
        c01.intoArray(acc, a + L);
        c02.intoArray(acc, a + 2 * L);
        c03.intoArray(acc, a + 3 * L);
        c10.intoArray(acc, a + 4 * L);
        c11.intoArray(acc, a + 5 * L);
        c12.intoArray(acc, a + 6 * L);
        c13.intoArray(acc, a + 7 * L);
        c20.intoArray(acc, a + 8 * L);
        c21.intoArray(acc, a + 9 * L);
        c22.intoArray(acc, a + 10 * L);
        c23.intoArray(acc, a + 11 * L);
        c30.intoArray(acc, a + 12 * L);
        c31.intoArray(acc, a + 13 * L);
        c32.intoArray(acc, a + 14 * L);
        c33.intoArray(acc, a + 15 * L);
        finish(acc, a, 4, w, wb, ws, x, xb0, xs, lv, len, out, o, outCols, first);
    }
}
