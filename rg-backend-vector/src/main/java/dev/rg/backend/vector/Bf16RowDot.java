package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.I;
import static dev.rg.backend.vector.Simd.L;
import static dev.rg.backend.vector.Simd.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * bf16 weights read in place from their segment.
 *
 * <p>The JDK cannot emit VDPBF16PS, so bf16 must become float32 before the FMA. Instead of widening shorts
 * (a cross-lane conversion per vector), each int lane of a plain {@link IntVector} load holds a pair of
 * adjacent weights: {@code lane << 16} is the even element and {@code lane & 0xFFFF0000} the odd one, both
 * already float32 bit patterns. The activations are de-interleaved once per call to match ({@link #prepare}:
 * per row, the even elements of the vectorised part, then the odd ones, then the scalar tail in place), so
 * one 64-byte weight load feeds two FMAs with two cheap integer ops and no shuffle.
 *
 * <p>Register tiles: 1 activation row x 4 weight rows for decode (8 accumulators; four row streams keep more
 * cache lines in flight than one: measured 0.8 vs 0.65 of a plain read), 4 x 4 for batches and prefill (each
 * weight vector is reused by four rows, each activation vector by four weight rows), K-blocked by
 * {@link #BLOCK_PAIRS} pairs so that the four activation rows of a block stay in L1 while the unit's weight
 * tiles stream past. Larger tiles (1 x 8, or 1 x 4 unrolled twice) were measured 3x slower: with more than
 * about six segment loads per method C2 stops inlining the Vector API and boxes every vector.
 */
final class Bf16RowDot extends RowDot {
    /**
     * The most pairs per K block of the 4 x 4 path: 4 activation rows x 1280 elements = 20 KB stay in L1 across weight
     * tiles. A row is cut into equal blocks of at most this ({@link #blockPairs}): a short last block costs a tile end
     * for little work. 2B shapes, 2 threads, 128 x [2560 x 2560], [7680 x 2560], [2560 x 7680] (Zen 5, medians):
     * 640 gave 244-281 GFLOP/s, 512 235-263, 1280 192-260.
     */
    static final int BLOCK_PAIRS = Integer.getInteger("rg.vector.blockPairs", 640);

    /**
     * The most pairs per K block of every path of up to {@link #BATCH_MAX} rows: decode and batches. Each sums a row in
     * the same blocks, so a row has the same bits on both. Larger than {@link #BLOCK_PAIRS} because decode pays for short blocks: with 640, a 2B 7680 x 2560 matvec
     * (two blocks per row) streamed 0.49-0.55 of the read probe against 0.59-0.70 in one block ({@code VectorBench 2
     * decode-bf16 5}, alternated, Zen 5); at 1280 every 2B row of 2560 columns is one block, as before blocks existed
     * there, and a block of four activation rows (40 KB) still fits L1.
     */
    static final int BATCH_BLOCK_PAIRS = Integer.getInteger("rg.vector.batchBlockPairs", 1280);

    /** Pairs per K block for {@code n} rows of {@code pv} vector pairs ({@link #BLOCK_PAIRS} or {@link #BATCH_BLOCK_PAIRS}). */
    static int blockPairs(int pv, int n) {
        return equalBlocks(pv, n > BATCH_MAX ? BLOCK_PAIRS : BATCH_BLOCK_PAIRS);
    }

    /** Pairs per K block for rows of {@code pv} vector pairs: equal blocks of at most {@code most}, whole vectors. */
    private static int equalBlocks(int pv, int most) {
        int max = Math.max(L, most / L * L);
        int blocks = Math.max(1, (pv + max - 1) / max);
        int per = (pv + blocks - 1) / blocks;
        return Math.max(L, (per + L - 1) / L * L); // never 0: a row of only a scalar tail is one (empty) block
    }

    /** Pairs of each row covered by whole vectors; elements from {@code 2 * pairs} on are the scalar tail. */
    static int vectorPairs(int k) {
        return (k >>> 1) / L * L;
    }

    @Override
    int preparedSize(int n, int k) {
        return Math.multiplyExact(n, k);
    }

    @Override
    float[] prepare(float[] x, int n, int k, float[] dst) {
        return deinterleave(x, n, k, dst);
    }

    /** The even/odd split shared by the pair-packed 16-bit formats. */
    static float[] deinterleave(float[] x, int n, int k, float[] dst) {
        int pv = vectorPairs(k);
        for (int i = 0; i < n; i++) {
            int b = i * k;
            for (int p = 0; p < pv; p++) {
                dst[b + p] = x[b + 2 * p];
                dst[b + pv + p] = x[b + 2 * p + 1];
            }
            for (int c = 2 * pv; c < k; c++) {
                dst[b + c] = x[b + c];
            }
        }
        return dst;
    }

    /** The K block of the 4 x 4 K-blocked path: its pairs are re-read for every four activation rows. */
    @Override
    int reuseBytes(int k, int n) {
        int pv = vectorPairs(k);
        return 4 * Math.min(pv, blockPairs(pv, n));
    }

    @Override
    int scratchSize(int k) {
        return Accumulators.FLOATS;
    }

    @Override
    void dequantizeRow(VectorWeight w, long row, float[] dst, int off) {
        int k = w.cols();
        DenseWeights.toFloats(w.data(), DenseWeights.BF16, row * k, dst, off, k);
    }

    @Override
    void dot(VectorWeight w, float[] xp, int n, int j0, int j1, float[] out, float[] scratch, MemorySegment panel) {
        MemorySegment s = w.data();
        int k = w.cols();
        int outCols = w.rows();
        long rowBytes = 2L * k;
        int pv = vectorPairs(k);
        if (!blocked(n)) {
            batch(s, rowBytes, xp, n, k, pv, j0, j1, out, outCols, scratch);
            return;
        }
        int jt = j0 + (j1 - j0) / 4 * 4;
        int it = n / 4 * 4;
        int bp = blockPairs(pv, n);
        if (it > 0 && jt > j0) {
            // K-blocked (a prefill): for each block of pairs, a 4-row
            // activation block stays in L1 while the weight tiles of this unit stream past it from L2; partial sums
            // accumulate in out
            boolean packed = panel != null && panel.byteSize() >= (jt - j0) * (long) reuseBytes(k, n) && !aligned(s, rowBytes);
            for (int p0 = 0; ; p0 += bp) {
                int p1 = Math.min(pv, p0 + bp);
                boolean first = p0 == 0;
                boolean last = p1 == pv;
                // misaligned rows: this block of the unit's rows is first copied to a 64-byte-aligned panel (see
                // RowDot.aligned)
                long pb = 4L * (p1 - p0);
                if (packed) {
                    packRows(s, rowBytes, j0, jt, 4L * p0, pb, panel);
                }
                MemorySegment ws = packed ? panel : s;
                long wb = packed ? pb : rowBytes;
                for (int i = 0; i < it; i += 4) {
                    for (int j = j0; j < jt; j += 4) {
                        long wr = packed ? (j - j0) * pb - 4L * p0 : j * rowBytes;
                        tile4x4(ws, wr, wb, xp, i * k, k, pv, p0, p1, first, last, out, i * outCols + j, outCols, 1, scratch,
                                s, j * rowBytes, rowBytes);
                    }
                }
                if (last) {
                    break;
                }
            }
        }
        for (int i = it; i < n; i++) {
            for (int j = j0; j < jt; j += 4) {
                for (int p0 = 0; p0 == 0 || p0 < pv; p0 += bp) {
                    tile1x4(s, j * rowBytes, rowBytes, xp, i * k, k, pv, p0, Math.min(pv, p0 + bp), out, i * outCols + j, 1);
                }
            }
        }
        dots1(s, rowBytes, xp, n, k, pv, bp, jt, j1, out, outCols);
    }

    /** Weight rows {@code [j0, j1)} (fewer than a tile) against every activation row, one dot product per K block of {@code bp}. */
    private static void dots1(MemorySegment s, long rowBytes, float[] xp, int n, int k, int pv, int bp, int j0, int j1,
            float[] out, int outCols) {
        for (int j = j0; j < j1; j++) {
            long r = j * rowBytes;
            for (int i = 0; i < n; i++) {
                for (int p0 = 0; p0 == 0 || p0 < pv; p0 += bp) {
                    dot1(s, r, xp, i * k, k, pv, p0, Math.min(pv, p0 + bp), out, i * outCols + j);
                }
            }
        }
    }

    /**
     * Decode and batched decode ({@code 1 <= n <=} {@link RowDot#BATCH_MAX}): weight rows outermost, so that each group of four
     * weight rows is read from memory once and then, from L1/L2, feeds every activation row: four at a time in the 4 x 4
     * tile (each weight vector in a register feeds four rows), two in the 4 x 2 tile, the last one in the 1 x 4 tile.
     * Each row is summed in the K blocks of {@link #BATCH_BLOCK_PAIRS} (partial sums added to {@code out} in block
     * order), as decode sums it, so that it has the same bits on both paths. The four weight rows of a group are a
     * quarter of the unit apart ({@link RowDot#spread}), as decode reads them. The activations of a batch ({@code n x k}
     * floats, at most 16 x 7680 x 4 = 480 KB) stay in L2 across the weight rows.
     */
    private static void batch(MemorySegment s, long rowBytes, float[] xp, int n, int k, int pv, int j0, int j1,
            float[] out, int outCols, float[] acc) {
        int bp = blockPairs(pv, n);
        // each group's weight rows a quarter of the unit apart, as decode reads them (RowDot.spread)
        int q = spread(j0, j1);
        long rs = q * rowBytes;
        for (int j = j0; j < j0 + q; j++) {
            long r = j * rowBytes;
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                for (int p0 = 0; p0 == 0 || p0 < pv; p0 += bp) {
                    int p1 = Math.min(pv, p0 + bp);
                    tile4x4(s, r, rs, xp, i * k, k, pv, p0, p1, p0 == 0, p1 == pv, out, i * outCols + j, outCols, q, acc,
                            s, r, rs);
                }
            }
            if (i + 2 <= n) {
                for (int p0 = 0; p0 == 0 || p0 < pv; p0 += bp) {
                    tile2x4(s, r, rs, xp, i * k, k, pv, p0, Math.min(pv, p0 + bp), out, i * outCols + j, outCols, q, acc);
                }
                i += 2;
            }
            if (i < n) {
                for (int p0 = 0; p0 == 0 || p0 < pv; p0 += bp) {
                    tile1x4(s, r, rs, xp, i * k, k, pv, p0, Math.min(pv, p0 + bp), out, i * outCols + j, q);
                }
            }
        }
        dots1(s, rowBytes, xp, n, k, pv, bp, j0 + 4 * q, j1, out, outCols);
    }

    /**
     * Two activation rows against four weight rows {@code rb} bytes apart, pairs {@code [p0, p1)} (one K block, see
     * {@link #put}), into {@code out[o + i * outCols + c * os]}.
     */
    private static void tile2x4(MemorySegment s, long r0, long rb, float[] xp, int xb0, int k, int pv, int p0, int p1,
            float[] out, int o, int outCols, int os, float[] acc) {
        long r1 = r0 + rb;
        long r2 = r1 + rb;
        long r3 = r2 + rb;
        int xb1 = xb0 + k;
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        for (int p = p0; p < p1; p += L) {
            long off = 4L * p;
            IntVector v0 = IntVector.fromMemorySegment(I, s, r0 + off, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, s, r1 + off, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, s, r2 + off, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, s, r3 + off, LE);
            FloatVector e0 = even(v0);
            FloatVector e1 = even(v1);
            FloatVector e2 = even(v2);
            FloatVector e3 = even(v3);
            FloatVector x = FloatVector.fromArray(F, xp, xb0 + p);
            c00 = e0.fma(x, c00);
            c01 = e1.fma(x, c01);
            c02 = e2.fma(x, c02);
            c03 = e3.fma(x, c03);
            x = FloatVector.fromArray(F, xp, xb1 + p);
            c10 = e0.fma(x, c10);
            c11 = e1.fma(x, c11);
            c12 = e2.fma(x, c12);
            c13 = e3.fma(x, c13);
            FloatVector o0 = odd(v0);
            FloatVector o1 = odd(v1);
            FloatVector o2 = odd(v2);
            FloatVector o3 = odd(v3);
            x = FloatVector.fromArray(F, xp, xb0 + pv + p);
            c00 = o0.fma(x, c00);
            c01 = o1.fma(x, c01);
            c02 = o2.fma(x, c02);
            c03 = o3.fma(x, c03);
            x = FloatVector.fromArray(F, xp, xb1 + pv + p);
            c10 = o0.fma(x, c10);
            c11 = o1.fma(x, c11);
            c12 = o2.fma(x, c12);
            c13 = o3.fma(x, c13);
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
        finish(acc, 2, s, r0, rb, xp, xb0, k, pv, p0 == 0, p1 == pv, out, o, outCols, os);
    }

    private static FloatVector even(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector odd(IntVector v) {
        return v.and(0xFFFF0000).reinterpretAsFloats();
    }

    /** Scalar tail of one row: elements {@code [2 * pv, k)}. */
    private static float tail(MemorySegment s, long r, float[] xp, int xb, int k, int pv) {
        float sum = 0f;
        for (int c = 2 * pv; c < k; c++) {
            sum += xp[xb + c] * Float.intBitsToFloat((s.get(DenseWeights.I16_LE, r + 2L * c) & 0xFFFF) << 16);
        }
        return sum;
    }

    /**
     * One row against one weight row, pairs {@code [p0, p1)}. Like every tile, one accumulator per output: the even pair
     * elements, then the odd ones, of each vector step, reduced and {@link #put} per K block (so a row gives the same
     * bits in any tile and on any path).
     */
    private static void dot1(MemorySegment s, long r, float[] xp, int xb, int k, int pv, int p0, int p1, float[] out, int o) {
        FloatVector a = FloatVector.zero(F);
        for (int p = p0; p < p1; p += L) {
            IntVector v = IntVector.fromMemorySegment(I, s, r + 4L * p, LE);
            a = even(v).fma(FloatVector.fromArray(F, xp, xb + p), a);
            a = odd(v).fma(FloatVector.fromArray(F, xp, xb + pv + p), a);
        }
        boolean last = p1 == pv;
        put(out, o, a.reduceLanes(VectorOperators.ADD) + (last ? tail(s, r, xp, xb, k, pv) : 0f), p0 == 0);
    }

    /**
     * One activation row against four weight rows {@code rb} bytes apart (decode: a quarter of the unit, see
     * {@link RowDot#spread}), pairs {@code [p0, p1)} (one K block, see {@link #put}), into {@code out[o + c * os]}: four
     * row streams in flight. A row of one block (every 2B row of 2560 columns) runs the loop it ran before blocks existed.
     */
    private static void tile1x4(MemorySegment s, long r0, long rb, float[] xp, int xb, int k, int pv, int p0, int p1,
            float[] out, int o, int os) {
        long r1 = r0 + rb;
        long r2 = r1 + rb;
        long r3 = r2 + rb;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int p = p0; p < p1; p += L) {
            FloatVector xe = FloatVector.fromArray(F, xp, xb + p);
            FloatVector xo = FloatVector.fromArray(F, xp, xb + pv + p);
            long off = 4L * p;
            IntVector v0 = IntVector.fromMemorySegment(I, s, r0 + off, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, s, r1 + off, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, s, r2 + off, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, s, r3 + off, LE);
            a0 = even(v0).fma(xe, a0);
            a1 = even(v1).fma(xe, a1);
            a2 = even(v2).fma(xe, a2);
            a3 = even(v3).fma(xe, a3);
            a0 = odd(v0).fma(xo, a0);
            a1 = odd(v1).fma(xo, a1);
            a2 = odd(v2).fma(xo, a2);
            a3 = odd(v3).fma(xo, a3);
        }
        boolean first = p0 == 0;
        boolean last = p1 == pv;
        put(out, o, a0.reduceLanes(VectorOperators.ADD) + (last ? tail(s, r0, xp, xb, k, pv) : 0f), first);
        put(out, o + os, a1.reduceLanes(VectorOperators.ADD) + (last ? tail(s, r1, xp, xb, k, pv) : 0f), first);
        put(out, o + 2 * os, a2.reduceLanes(VectorOperators.ADD) + (last ? tail(s, r2, xp, xb, k, pv) : 0f), first);
        put(out, o + 3 * os, a3.reduceLanes(VectorOperators.ADD) + (last ? tail(s, r3, xp, xb, k, pv) : 0f), first);
    }

    /**
     * Pairs {@code [p0, p1)} of a 4 x 4 tile, weight row {@code r} at {@code s[r0 + r * rb + 4 * p]} (the weight itself or
     * a packed panel of it); {@code first}: overwrite {@code out} (else add to it), {@code last}: add the scalar tails,
     * read from the weight itself ({@code ts}, row {@code r} at {@code tr0 + r * trb}); output {@code r} of activation row
     * {@code i} at {@code out[o + i * outCols + r * os]}.
     */
    private static void tile4x4(MemorySegment s, long r0, long rb, float[] xp, int xb0, int k, int pv, int p0, int p1,
            boolean first, boolean last, float[] out, int o, int outCols, int os, float[] acc, MemorySegment ts, long tr0,
            long trb) {
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
        for (int p = p0; p < p1; p += L) {
            long off = 4L * p;
            IntVector v0 = IntVector.fromMemorySegment(I, s, r0 + off, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, s, r1 + off, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, s, r2 + off, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, s, r3 + off, LE);
            FloatVector e0 = even(v0);
            FloatVector e1 = even(v1);
            FloatVector e2 = even(v2);
            FloatVector e3 = even(v3);
            FloatVector x = FloatVector.fromArray(F, xp, xb0 + p);
            c00 = e0.fma(x, c00);
            c01 = e1.fma(x, c01);
            c02 = e2.fma(x, c02);
            c03 = e3.fma(x, c03);
            x = FloatVector.fromArray(F, xp, xb1 + p);
            c10 = e0.fma(x, c10);
            c11 = e1.fma(x, c11);
            c12 = e2.fma(x, c12);
            c13 = e3.fma(x, c13);
            x = FloatVector.fromArray(F, xp, xb2 + p);
            c20 = e0.fma(x, c20);
            c21 = e1.fma(x, c21);
            c22 = e2.fma(x, c22);
            c23 = e3.fma(x, c23);
            x = FloatVector.fromArray(F, xp, xb3 + p);
            c30 = e0.fma(x, c30);
            c31 = e1.fma(x, c31);
            c32 = e2.fma(x, c32);
            c33 = e3.fma(x, c33);
            FloatVector o0 = odd(v0);
            FloatVector o1 = odd(v1);
            FloatVector o2 = odd(v2);
            FloatVector o3 = odd(v3);
            x = FloatVector.fromArray(F, xp, xb0 + pv + p);
            c00 = o0.fma(x, c00);
            c01 = o1.fma(x, c01);
            c02 = o2.fma(x, c02);
            c03 = o3.fma(x, c03);
            x = FloatVector.fromArray(F, xp, xb1 + pv + p);
            c10 = o0.fma(x, c10);
            c11 = o1.fma(x, c11);
            c12 = o2.fma(x, c12);
            c13 = o3.fma(x, c13);
            x = FloatVector.fromArray(F, xp, xb2 + pv + p);
            c20 = o0.fma(x, c20);
            c21 = o1.fma(x, c21);
            c22 = o2.fma(x, c22);
            c23 = o3.fma(x, c23);
            x = FloatVector.fromArray(F, xp, xb3 + pv + p);
            c30 = o0.fma(x, c30);
            c31 = o1.fma(x, c31);
            c32 = o2.fma(x, c32);
            c33 = o3.fma(x, c33);
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
        finish(acc, 4, ts, tr0, trb, xp, xb0, k, pv, first, last, out, o, outCols, os);
    }

    /**
     * The end of a tile of {@code rows} activation rows x 4 weight rows whose accumulators are parked in {@code acc}
     * (row-major, one vector each): each lane sum, plus its scalar tail in the {@code last} K block, is written to
     * {@code out} ({@code first} K block) or added to it.
     */
    private static void finish(float[] acc, int rows, MemorySegment s, long r0, long rb, float[] xp, int xb0, int k, int pv,
            boolean first, boolean last, float[] out, int o, int outCols, int os) {
        for (int i = 0; i < rows; i++) {
            int xb = xb0 + i * k;
            int q = o + i * outCols;
            for (int c = 0; c < 4; c++) {
                float v = Accumulators.sum(acc, 0, 4 * i + c);
                put(out, q + c * os, v + (last ? tail(s, r0 + c * rb, xp, xb, k, pv) : 0f), first);
            }
        }
    }


    /** Writes ({@code first} K block) or accumulates one dot product. */
    static void put(float[] out, int i, float v, boolean first) {
        out[i] = first ? v : out[i] + v;
    }
}
