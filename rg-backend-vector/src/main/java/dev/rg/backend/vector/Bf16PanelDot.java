package dev.rg.backend.vector;

import static dev.rg.backend.vector.Bf16Panels.ROWS;
import static dev.rg.backend.vector.Bf16Panels.STEP_BYTES;
import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.I;
import static dev.rg.backend.vector.Simd.L;
import static dev.rg.backend.vector.Simd.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * bf16 matmuls on the {@link Bf16Panels panel layout}: each output is a sum over K in column order of weight x broadcast
 * activation, one float lane per output, so no lane reduction ends a tile.
 *
 * <p>Every output is summed the same way whatever the number of activation rows and whatever the tile: one FMA chain per
 * K block of {@link #K_BLOCK} columns from zero, the blocks' partial sums added to the output in block order. A row of a
 * batch or of a prefill therefore has exactly the bits of the same row decoded alone.
 *
 * <p>Register tiles: 2 activation rows x 4 panels (16 accumulators; per column 4 weight loads, 2 broadcasts, 16 FMAs)
 * for each pair of rows, 1 row x 4 panels for an odd last row (decode: four weight streams, eight independent FMA
 * chains). A unit's panels are taken four at a time; for each K block, the four panels' block (64 KB at the default)
 * is read from memory once, by the first pair of rows, and then feeds the other pairs from L1/L2. Panels left over
 * and the last, partial panel take a one-panel tile. A 4-row x 2-panel tile (the same loads per FMA, half the
 * weight streams) was measured and dropped ({@code VectorBench 2 batch-bf16 5}, 7680 x 2560 from DRAM, two
 * alternations, medians, pairs vs 4 x 2: 8 rows 1391 / 1383 vs 1608 / 1571 us, 16 rows 2265 / 2258 vs 2420 / 2503;
 * {@code prefill-2b}: 2560 x 2560 334 / 352 vs 226 / 180 GFLOP/s, 7680 x 2560 and 2560 x 7680 within 2-6%).
 */
final class Bf16PanelDot extends RowDot {
    /**
     * Columns per K block. The block of four panels is {@code 4 x 64} bytes per column (at 16 lanes), re-read from L1/L2
     * for each group of activation rows; each block ends with its tile's accumulators added to the outputs.
     */
    static final int K_BLOCK = Math.max(1, Integer.getInteger("rg.vector.panelKBlock", 256));

    @Override
    int scratchSize(int k) {
        return Accumulators.FLOATS;
    }

    /** Four panels: the decode tile's width, so that units hold whole groups of four. */
    @Override
    int tileRows() {
        return 4 * ROWS;
    }

    /** From the row-major data, which the weight keeps for lookups (the embedding) and for other kernels. */
    @Override
    void dequantizeRow(VectorWeight w, long row, float[] dst, int off) {
        int k = w.cols();
        DenseWeights.toFloats(w.data(), DenseWeights.BF16, row * k, dst, off, k);
    }

    @Override
    void dot(VectorWeight w, float[] x, int n, int j0, int j1, float[] out, float[] acc, MemorySegment unused) {
        MemorySegment s = w.panels();
        int k = w.cols();
        int outCols = w.rows();
        long pb = Bf16Panels.panelBytes(k);
        int first = j0 / ROWS; // units start on a panel: tileRows() is a multiple of ROWS
        int whole = j1 / ROWS;
        int quadEnd = first + Math.max(0, whole - first) / 4 * 4;
        for (int p = first; p < quadEnd; p += 4) {
            long w0 = p * pb;
            int o = p * ROWS;
            for (int c0 = 0; c0 == 0 || c0 < k; c0 += K_BLOCK) {
                int c1 = Math.min(k, c0 + K_BLOCK);
                boolean start = c0 == 0;
                int i = 0;
                for (; i + 2 <= n; i += 2) {
                    tile2x4(s, w0, pb, x, i * k, k, c0, c1, acc);
                    finish(acc, 2, 8, start, out, i * outCols + o, outCols);
                }
                if (i < n) {
                    tile1x4(s, w0, pb, x, i * k, c0, c1, acc);
                    finish(acc, 1, 8, start, out, i * outCols + o, outCols);
                }
            }
        }
        // panels left over, the last of them possibly partial (the matrix's rows end inside it)
        for (int p = quadEnd; p * ROWS < j1; p++) {
            int valid = Math.min(ROWS, j1 - p * ROWS);
            for (int c0 = 0; c0 == 0 || c0 < k; c0 += K_BLOCK) {
                int c1 = Math.min(k, c0 + K_BLOCK);
                for (int i = 0; i < n; i++) {
                    tile1x1(s, p * pb, x, i * k, c0, c1, acc);
                    finishPartial(acc, valid, c0 == 0, out, i * outCols + p * ROWS);
                }
            }
        }
    }

    /**
     * The end of a K block: the tile's {@code rows x vecs} accumulators, parked in {@code acc} row after row, written to
     * ({@code start}) or added to the outputs, vector {@code v} of row {@code r} at {@code out[o + r * outCols + v * L]}.
     * In a helper, not after the tile's loop: see {@link Accumulators}.
     */
    private static void finish(float[] acc, int rows, int vecs, boolean start, float[] out, int o, int outCols) {
        for (int r = 0; r < rows; r++) {
            for (int v = 0; v < vecs; v++) {
                FloatVector a = FloatVector.fromArray(F, acc, (r * vecs + v) * L);
                int at = o + r * outCols + v * L;
                if (!start) {
                    a = a.add(FloatVector.fromArray(F, out, at));
                }
                a.intoArray(out, at);
            }
        }
    }

    /** {@link #finish} of a one-panel tile whose first {@code valid} outputs exist. */
    private static void finishPartial(float[] acc, int valid, boolean start, float[] out, int o) {
        for (int c = 0; c < valid; c++) {
            out[o + c] = start ? acc[c] : out[o + c] + acc[c];
        }
    }

    private static FloatVector low(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector high(IntVector v) {
        return v.and(0xFFFF0000).reinterpretAsFloats();
    }

    /** Two activation rows x the four panels from {@code w0}, {@code pb} bytes apart, columns {@code [c0, c1)}. */
    private static void tile2x4(MemorySegment s, long w0, long pb, float[] x, int xb, int k, int c0, int c1, float[] acc) {
        long w1 = w0 + pb;
        long w2 = w1 + pb;
        long w3 = w2 + pb;
        int xb1 = xb + k;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a02 = a00;
        FloatVector a03 = a00;
        FloatVector a04 = a00;
        FloatVector a05 = a00;
        FloatVector a06 = a00;
        FloatVector a07 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a12 = a00;
        FloatVector a13 = a00;
        FloatVector a14 = a00;
        FloatVector a15 = a00;
        FloatVector a16 = a00;
        FloatVector a17 = a00;
        for (int c = c0; c < c1; c++) {
            long off = c * STEP_BYTES;
            IntVector u0 = IntVector.fromMemorySegment(I, s, w0 + off, LE);
            IntVector u1 = IntVector.fromMemorySegment(I, s, w1 + off, LE);
            IntVector u2 = IntVector.fromMemorySegment(I, s, w2 + off, LE);
            IntVector u3 = IntVector.fromMemorySegment(I, s, w3 + off, LE);
            FloatVector b0 = FloatVector.broadcast(F, x[xb + c]);
            FloatVector b1 = FloatVector.broadcast(F, x[xb1 + c]);
            FloatVector l0 = low(u0);
            FloatVector h0 = high(u0);
            a00 = l0.fma(b0, a00);
            a01 = h0.fma(b0, a01);
            a10 = l0.fma(b1, a10);
            a11 = h0.fma(b1, a11);
            FloatVector l1 = low(u1);
            FloatVector h1 = high(u1);
            a02 = l1.fma(b0, a02);
            a03 = h1.fma(b0, a03);
            a12 = l1.fma(b1, a12);
            a13 = h1.fma(b1, a13);
            FloatVector l2 = low(u2);
            FloatVector h2 = high(u2);
            a04 = l2.fma(b0, a04);
            a05 = h2.fma(b0, a05);
            a14 = l2.fma(b1, a14);
            a15 = h2.fma(b1, a15);
            FloatVector l3 = low(u3);
            FloatVector h3 = high(u3);
            a06 = l3.fma(b0, a06);
            a07 = h3.fma(b0, a07);
            a16 = l3.fma(b1, a16);
            a17 = h3.fma(b1, a17);
        }
        a00.intoArray(acc, 0);
        a01.intoArray(acc, L);
        a02.intoArray(acc, 2 * L);
        a03.intoArray(acc, 3 * L);
        a04.intoArray(acc, 4 * L);
        a05.intoArray(acc, 5 * L);
        a06.intoArray(acc, 6 * L);
        a07.intoArray(acc, 7 * L);
        a10.intoArray(acc, 8 * L);
        a11.intoArray(acc, 9 * L);
        a12.intoArray(acc, 10 * L);
        a13.intoArray(acc, 11 * L);
        a14.intoArray(acc, 12 * L);
        a15.intoArray(acc, 13 * L);
        a16.intoArray(acc, 14 * L);
        a17.intoArray(acc, 15 * L);
    }

    /** One activation row x the four panels from {@code w0}, {@code pb} bytes apart (decode: four weight streams). */
    private static void tile1x4(MemorySegment s, long w0, long pb, float[] x, int xb, int c0, int c1, float[] acc) {
        long w1 = w0 + pb;
        long w2 = w1 + pb;
        long w3 = w2 + pb;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        for (int c = c0; c < c1; c++) {
            long off = c * STEP_BYTES;
            IntVector u0 = IntVector.fromMemorySegment(I, s, w0 + off, LE);
            IntVector u1 = IntVector.fromMemorySegment(I, s, w1 + off, LE);
            IntVector u2 = IntVector.fromMemorySegment(I, s, w2 + off, LE);
            IntVector u3 = IntVector.fromMemorySegment(I, s, w3 + off, LE);
            FloatVector b = FloatVector.broadcast(F, x[xb + c]);
            a0 = low(u0).fma(b, a0);
            a1 = high(u0).fma(b, a1);
            a2 = low(u1).fma(b, a2);
            a3 = high(u1).fma(b, a3);
            a4 = low(u2).fma(b, a4);
            a5 = high(u2).fma(b, a5);
            a6 = low(u3).fma(b, a6);
            a7 = high(u3).fma(b, a7);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        a4.intoArray(acc, 4 * L);
        a5.intoArray(acc, 5 * L);
        a6.intoArray(acc, 6 * L);
        a7.intoArray(acc, 7 * L);
    }

    /** One activation row x the panel at {@code w0}: panels left over, and a matrix's last, partial panel. */
    private static void tile1x1(MemorySegment s, long w0, float[] x, int xb, int c0, int c1, float[] acc) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (int c = c0; c < c1; c++) {
            IntVector u = IntVector.fromMemorySegment(I, s, w0 + c * STEP_BYTES, LE);
            FloatVector b = FloatVector.broadcast(F, x[xb + c]);
            a0 = low(u).fma(b, a0);
            a1 = high(u).fma(b, a1);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
    }
}
