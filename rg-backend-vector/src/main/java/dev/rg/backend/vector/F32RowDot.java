package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;
import static dev.rg.backend.vector.Simd.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * float32 weights read in place from their segment. Activations are used as they are. Register tiles as in
 * {@link Bf16RowDot}: 1 x 4 for decode rows, 4 x 4 for batches (weight rows outermost: read once for every row) and
 * for prefill (K-blocked, activation blocks outermost).
 */
final class F32RowDot extends RowDot {
    /** Floats per K block of the prefill path: 4 activation rows x 1024 x 4 B = 16 KB stay in L1 across weight tiles. */
    static final int K_BLOCK = 1024;

    /** The K block of the 4 x 4 prefill path: it is re-read for every four activation rows. */
    @Override
    int reuseBytes(int k, int n) {
        return 4 * Math.min(k, K_BLOCK);
    }

    @Override
    int scratchSize(int k) {
        return Accumulators.FLOATS;
    }

    @Override
    void dequantizeRow(VectorWeight w, long row, float[] dst, int off) {
        int k = w.cols();
        DenseWeights.toFloats(w.data(), DenseWeights.F32, row * k, dst, off, k);
    }

    @Override
    void dot(VectorWeight w, float[] x, int n, int j0, int j1, float[] out, float[] scratch, MemorySegment panel) {
        MemorySegment s = w.data();
        int k = w.cols();
        int outCols = w.rows();
        long rowBytes = 4L * k;
        int kv = k / L * L;
        int jt = j0 + (j1 - j0) / 4 * 4;
        int it = n / 4 * 4;
        int i0 = 0;
        if (n > RowDot.BATCH_MAX && jt > j0) {
            // prefill: K-blocked, so that a 4-row activation block (4 x 4 KB) stays in L1 while the unit's weight tiles
            // stream past it from L2; partial sums accumulate in out (as Bf16RowDot)
            // misaligned rows (a checkpoint's, mapped in place): each block of the unit's rows is first copied to this
            // thread's 64-byte-aligned panel, as in Bf16RowDot
            boolean packed = panel != null && panel.byteSize() >= (jt - j0) * (long) reuseBytes(k, n)
                    && !aligned(s, rowBytes);
            for (int c0 = 0; ; c0 += K_BLOCK) {
                int c1 = Math.min(kv, c0 + K_BLOCK);
                boolean first = c0 == 0;
                boolean last = c1 == kv;
                long pb = 4L * (c1 - c0);
                if (packed) {
                    packRows(s, rowBytes, j0, jt, 4L * c0, pb, panel);
                }
                MemorySegment ws = packed ? panel : s;
                long wb = packed ? pb : rowBytes;
                for (int i = 0; i < it; i += 4) {
                    for (int j = j0; j < jt; j += 4) {
                        long wr = packed ? (j - j0) * pb - 4L * c0 : j * rowBytes;
                        tile4x4(ws, wr, wb, x, i * k, k, kv, c0, c1, first, last, out, i * outCols + j, outCols, scratch,
                                s, j * rowBytes, rowBytes);
                    }
                }
                if (last) {
                    break;
                }
            }
            i0 = it;
        }
        // decode and batched decode: weight rows outermost, each read from memory once for every activation row; decode
        // takes a group's four rows a quarter of the unit apart (RowDot.spread), batches four adjacent rows
        int step = n == 1 ? spread(j0, j1) : 1;
        int groups = n == 1 ? step : (jt - j0) / 4;
        for (int g = 0; g < groups; g++) {
            int j = n == 1 ? j0 + g : j0 + 4 * g;
            long r = j * rowBytes;
            int i = i0;
            for (; i + 4 <= n; i += 4) {
                tile4x4(s, r, rowBytes, x, i * k, k, kv, 0, kv, true, true, out, i * outCols + j, outCols, scratch, s, r,
                        rowBytes);
            }
            for (; i < n; i++) {
                tile1x4(s, r, step * rowBytes, x, i * k, k, kv, out, i * outCols + j, step);
            }
        }
        for (int j = j0 + 4 * groups; j < j1; j++) {
            long r = j * rowBytes;
            for (int i = 0; i < n; i++) {
                out[i * outCols + j] = dot1(s, r, x, i * k, k, kv);
            }
        }
    }

    private static float tail(MemorySegment s, long r, float[] x, int xb, int k, int kv) {
        float sum = 0f;
        for (int c = kv; c < k; c++) {
            sum += x[xb + c] * s.get(DenseWeights.F32_LE, r + 4L * c);
        }
        return sum;
    }

    private static float dot1(MemorySegment s, long r, float[] x, int xb, int k, int kv) {
        FloatVector a = FloatVector.zero(F);
        for (int c = 0; c < kv; c += L) {
            a = FloatVector.fromMemorySegment(F, s, r + 4L * c, LE).fma(FloatVector.fromArray(F, x, xb + c), a);
        }
        return a.reduceLanes(VectorOperators.ADD) + tail(s, r, x, xb, k, kv);
    }

    /** One activation row against four weight rows {@code rb} bytes apart, into {@code out[o + c * os]}. */
    private static void tile1x4(MemorySegment s, long r0, long rb, float[] x, int xb, int k, int kv, float[] out, int o,
            int os) {
        long r1 = r0 + rb;
        long r2 = r1 + rb;
        long r3 = r2 + rb;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int c = 0; c < kv; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xb + c);
            long off = 4L * c;
            a0 = FloatVector.fromMemorySegment(F, s, r0 + off, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, s, r1 + off, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, s, r2 + off, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, s, r3 + off, LE).fma(xv, a3);
        }
        out[o] = a0.reduceLanes(VectorOperators.ADD) + tail(s, r0, x, xb, k, kv);
        out[o + os] = a1.reduceLanes(VectorOperators.ADD) + tail(s, r1, x, xb, k, kv);
        out[o + 2 * os] = a2.reduceLanes(VectorOperators.ADD) + tail(s, r2, x, xb, k, kv);
        out[o + 3 * os] = a3.reduceLanes(VectorOperators.ADD) + tail(s, r3, x, xb, k, kv);
    }

    /** Columns {@code [c0, c1)} of a 4 x 4 tile; {@code first}: overwrite {@code out} (else add), {@code last}: add the tails. */
    private static void tile4x4(MemorySegment s, long r0, long rb, float[] x, int xb0, int k, int kv, int c0, int c1,
            boolean first, boolean last, float[] out, int o, int outCols, float[] acc, MemorySegment ts, long tr0, long trb) {
        long r1 = r0 + rb;
        long r2 = r1 + rb;
        long r3 = r2 + rb;
        int xb1 = xb0 + k;
        int xb2 = xb1 + k;
        int xb3 = xb2 + k;
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
        for (int c = c0; c < c1; c += L) {
            long off = 4L * c;
            FloatVector w0 = FloatVector.fromMemorySegment(F, s, r0 + off, LE);
            FloatVector w1 = FloatVector.fromMemorySegment(F, s, r1 + off, LE);
            FloatVector w2 = FloatVector.fromMemorySegment(F, s, r2 + off, LE);
            FloatVector w3 = FloatVector.fromMemorySegment(F, s, r3 + off, LE);
            FloatVector xv = FloatVector.fromArray(F, x, xb0 + c);
            c00 = w0.fma(xv, c00);
            c01 = w1.fma(xv, c01);
            c02 = w2.fma(xv, c02);
            c03 = w3.fma(xv, c03);
            xv = FloatVector.fromArray(F, x, xb1 + c);
            c10 = w0.fma(xv, c10);
            c11 = w1.fma(xv, c11);
            c12 = w2.fma(xv, c12);
            c13 = w3.fma(xv, c13);
            xv = FloatVector.fromArray(F, x, xb2 + c);
            c20 = w0.fma(xv, c20);
            c21 = w1.fma(xv, c21);
            c22 = w2.fma(xv, c22);
            c23 = w3.fma(xv, c23);
            xv = FloatVector.fromArray(F, x, xb3 + c);
            c30 = w0.fma(xv, c30);
            c31 = w1.fma(xv, c31);
            c32 = w2.fma(xv, c32);
            c33 = w3.fma(xv, c33);
        }
        // parked, then reduced by a helper (see Accumulators)
        c00.intoArray(acc, 0);
        c01.intoArray(acc, L);
        c02.intoArray(acc, 2 * L);
        c03.intoArray(acc, 3 * L);
        c10.intoArray(acc, 4 * L);
        c11.intoArray(acc, 5 * L);
        c12.intoArray(acc, 6 * L);
        c13.intoArray(acc, 7 * L);
        c20.intoArray(acc, 8 * L);
        c21.intoArray(acc, 9 * L);
        c22.intoArray(acc, 10 * L);
        c23.intoArray(acc, 11 * L);
        c30.intoArray(acc, 12 * L);
        c31.intoArray(acc, 13 * L);
        c32.intoArray(acc, 14 * L);
        c33.intoArray(acc, 15 * L);
        finish(acc, ts, tr0, trb, x, xb0, k, kv, first, last, out, o, outCols);
    }

    /**
     * The end of a 4 x 4 tile whose accumulators are parked in {@code acc} (row-major): each lane sum, plus its scalar
     * tail in the {@code last} K block, written to ({@code first}) or added to {@code out}.
     */
    private static void finish(float[] acc, MemorySegment s, long r0, long rb, float[] x, int xb0, int k, int kv,
            boolean first, boolean last, float[] out, int o, int outCols) {
        for (int i = 0; i < 4; i++) {
            int xb = xb0 + i * k;
            int q = o + i * outCols;
            for (int c = 0; c < 4; c++) {
                float v = Accumulators.sum(acc, 0, 4 * i + c);
                Bf16RowDot.put(out, q + c, v + (last ? tail(s, r0 + c * rb, x, xb, k, kv) : 0f), first);
            }
        }
    }
}
