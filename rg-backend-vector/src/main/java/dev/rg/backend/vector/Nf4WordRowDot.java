package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.I;
import static dev.rg.backend.vector.Simd.L;
import static dev.rg.backend.vector.Simd.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The 4-bit decode kernel (one activation row) for 512-bit shapes and rows of whole 128-element chunks (every linear
 * layer of RecurrentGemma): codes read as 32-bit words. {@link Nf4RowDot} widens each 16 bytes of codes to an int
 * vector (a cross-lane shuffle, {@code vpmovsxbd}) before its table lookups (shuffles too); on the 2-core Zen 5 those
 * shuffles, not the memory, bound NF4 decode. Here one 64-byte load is an int vector whose lane {@code l} holds the
 * eight codes {@code 8l .. 8l + 7} of a 128-element chunk, and a logical shift right by 4, 0, 12, 8, 20, 16, 28 or 24
 * bits puts code {@code 8l + p} (p = 0..7) in the low nibble of every lane; the lookup {@code idx.selectFrom(t, t)}
 * wraps the index mod 32, which drops the other codes' bits (the table is repeated, so bit 4 picks an identical copy).
 * No widening: 8 shuffles per 128 codes instead of 12.
 *
 * <p>So the activations are permuted once per call to match ({@link #prepare}: in each chunk, vector {@code p} holds
 * elements {@code 8l + p}), and lanes 0-7 of a word belong to the chunk's first 64-block, lanes 8-15 to its second:
 * the scale vector is the two blocks' absmax values blended ({@code UPPER}). Each lane's eight products are summed in
 * two FMA chains (even and odd {@code p}: shorter dependency chains) and scaled once per chunk.
 *
 * <p>Two or more activation rows (batches, prefill) take {@link Nf4RowDot} and its layout: its batch tiles look codes
 * up in a table already scaled by the block's absmax, once per 64-block, where this layout, with two blocks per
 * vector, would need a multiply per looked-up vector. Tried: batch tiles on words cost 20-40% more
 * ({@code VectorBench 1 batchl3-nf4 5}, one pinned thread, 2560 x 2560 from L3, GFLOP/s medians: 4 rows 79.7 vs 98.5,
 * 8 rows 76.4 vs 112.4, 16 rows 68.2 vs 111.4), while one row gained half (64.4 vs 42.6).
 *
 * <p>Measured before it was built (a scratch program, one pinned thread, 512 x 2048 NF4 codes from L2, four rows at a
 * time, G weights/s, three rounds): the widening kernel 30.3 / 28.6 / 30.3, this one 37.6 / 34.9 / 37.6; with one
 * FMA chain per row instead of two 33.6 / 33.7; with the scale folded into two looked-up tables (an index bit per lane
 * half, two more logic ops per lookup) 19.3-20.0.
 */
final class Nf4WordRowDot extends RowDot {
    /** Elements per absmax. */
    static final int BLOCK = VectorFormats.FOUR_BIT_BLOCK;
    /** Elements per 64-byte word vector: two blocks. */
    static final int CHUNK = 2 * BLOCK;
    /** Lanes 8-15, which belong to a chunk's second block. */
    private static final VectorMask<Float> UPPER = VectorMask.fromLong(F, 0xFF00L);
    /** The shift that brings code {@code 8l + p} of a lane's word to its low nibble (high nibble first in a byte). */
    private static final int[] SHIFT = {4, 0, 12, 8, 20, 16, 28, 24};

    private final int[] tableBits;
    /** The kernel of everything but decode: batches, prefill and the embedding lookup, in its own layout. */
    private final Nf4RowDot rows;

    /** The word kernel of {@code codeBook}; {@code rows} (of the same code book) runs two or more activation rows. */
    Nf4WordRowDot(float[] codeBook, Nf4RowDot rows) {
        if (codeBook.length != 16) {
            throw new IllegalArgumentException("a 4-bit code book has 16 values, not " + codeBook.length);
        }
        this.tableBits = new int[16];
        for (int i = 0; i < 16; i++) {
            tableBits[i] = Float.floatToRawIntBits(codeBook[i]);
        }
        this.rows = rows;
    }

    /** Whether this kernel runs a weight of {@code cols} columns here. */
    static boolean applies(int cols) {
        return L == 16 && cols % CHUNK == 0 && Nf4RowDot.vectorisable(cols);
    }

    @Override
    int preparedSize(int n, int k) {
        return rows.preparedSize(n, k);
    }

    @Override
    int scratchSize(int k) {
        return rows.scratchSize(k);
    }

    @Override
    int reuseBytes(int k, int n) {
        return rows.reuseBytes(k, n);
    }

    @Override
    int tileRows() {
        return rows.tileRows();
    }

    @Override
    float[] prepare(float[] x, int n, int k, float[] dst) {
        if (n > 1) {
            return rows.prepare(x, n, k, dst);
        }
        // one row (decode): in each chunk, vector p holds elements 8l + p
        for (int g = 0; g < k; g += CHUNK) {
            for (int p = 0; p < 8; p++) {
                for (int l = 0; l < 16; l++) {
                    dst[g + 16 * p + l] = x[g + 8 * l + p];
                }
            }
        }
        return dst;
    }

    @Override
    void dequantizeRow(VectorWeight w, long row, float[] dst, int off) {
        rows.dequantizeRow(w, row, dst, off);
    }

    @Override
    void dot(VectorWeight w, float[] xp, int n, int j0, int j1, float[] out, float[] scratch, MemorySegment panel) {
        if (n == 1) {
            Nf4RowDot.decodeUnit(w, xp, j0, j1, out, scratch, tableBits, Nf4WordRowDot::rows4, Nf4WordRowDot::row1);
        } else {
            rows.dot(w, xp, n, j0, j1, out, scratch, panel);
        }
    }

    /*
     * The kernels below are written out (no helper methods, no loop over p): past its node budget C2 stops inlining
     * helpers and boxes their vectors, and every offset linear in the chunk index lets C2 hoist the bounds checks.
     * The table is loaded inside each kernel, not passed in: a vector argument of a method that is not inlined is boxed.
     */

    /**
     * Four rows whose codes start at byte {@code q0} ({@code rb} bytes apart), {@code nb} blocks each, their absmax
     * in {@code am} ({@code nb} apart), into {@code out[o + c * os]}.
     */
    private static void rows4(MemorySegment d, long q0, long rb, float[] am, int nb, float[] xp, int[] tableBits,
            float[] out, int o, int os) {
        IntVector t = IntVector.fromArray(I, tableBits, 0);
        long q1 = q0 + rb;
        long q2 = q1 + rb;
        long q3 = q2 + rb;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int b = 0; b < nb; b += 2) {
            int c = b * BLOCK;
            long qb = (BLOCK / 2) * (long) b;
            IntVector v0 = IntVector.fromMemorySegment(I, d, q0 + qb, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, d, q1 + qb, LE);
            IntVector v2 = IntVector.fromMemorySegment(I, d, q2 + qb, LE);
            IntVector v3 = IntVector.fromMemorySegment(I, d, q3 + qb, LE);
            FloatVector x = FloatVector.fromArray(F, xp, c);
            FloatVector e0 = v0.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(x);
            FloatVector e1 = v1.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(x);
            FloatVector e2 = v2.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(x);
            FloatVector e3 = v3.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(x);
            x = FloatVector.fromArray(F, xp, c + 16);
            FloatVector f0 = v0.selectFrom(t, t).reinterpretAsFloats().mul(x);
            FloatVector f1 = v1.selectFrom(t, t).reinterpretAsFloats().mul(x);
            FloatVector f2 = v2.selectFrom(t, t).reinterpretAsFloats().mul(x);
            FloatVector f3 = v3.selectFrom(t, t).reinterpretAsFloats().mul(x);
            x = FloatVector.fromArray(F, xp, c + 32);
            e0 = v0.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().fma(x, e0);
            e1 = v1.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().fma(x, e1);
            e2 = v2.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().fma(x, e2);
            e3 = v3.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().fma(x, e3);
            x = FloatVector.fromArray(F, xp, c + 48);
            f0 = v0.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().fma(x, f0);
            f1 = v1.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().fma(x, f1);
            f2 = v2.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().fma(x, f2);
            f3 = v3.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().fma(x, f3);
            x = FloatVector.fromArray(F, xp, c + 64);
            e0 = v0.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().fma(x, e0);
            e1 = v1.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().fma(x, e1);
            e2 = v2.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().fma(x, e2);
            e3 = v3.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().fma(x, e3);
            x = FloatVector.fromArray(F, xp, c + 80);
            f0 = v0.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().fma(x, f0);
            f1 = v1.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().fma(x, f1);
            f2 = v2.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().fma(x, f2);
            f3 = v3.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().fma(x, f3);
            x = FloatVector.fromArray(F, xp, c + 96);
            e0 = v0.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().fma(x, e0);
            e1 = v1.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().fma(x, e1);
            e2 = v2.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().fma(x, e2);
            e3 = v3.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().fma(x, e3);
            x = FloatVector.fromArray(F, xp, c + 112);
            f0 = v0.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().fma(x, f0);
            f1 = v1.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().fma(x, f1);
            f2 = v2.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().fma(x, f2);
            f3 = v3.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().fma(x, f3);
            a0 = e0.add(f0).fma(FloatVector.broadcast(F, am[0 * nb + b]).blend(am[0 * nb + b + 1], UPPER), a0);
            a1 = e1.add(f1).fma(FloatVector.broadcast(F, am[1 * nb + b]).blend(am[1 * nb + b + 1], UPPER), a1);
            a2 = e2.add(f2).fma(FloatVector.broadcast(F, am[2 * nb + b]).blend(am[2 * nb + b + 1], UPPER), a2);
            a3 = e3.add(f3).fma(FloatVector.broadcast(F, am[3 * nb + b]).blend(am[3 * nb + b + 1], UPPER), a3);
        }
        out[o] = a0.reduceLanes(VectorOperators.ADD);
        out[o + os] = a1.reduceLanes(VectorOperators.ADD);
        out[o + 2 * os] = a2.reduceLanes(VectorOperators.ADD);
        out[o + 3 * os] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** One row (codes from byte {@code q}), its absmax values in {@code am}. */
    private static float row1(MemorySegment d, long q, float[] am, int nb, float[] xp, int[] tableBits) {
        IntVector t = IntVector.fromArray(I, tableBits, 0);
        FloatVector a = FloatVector.zero(F);
        for (int b = 0; b < nb; b += 2) {
            int c = b * BLOCK;
            IntVector v = IntVector.fromMemorySegment(I, d, q + (BLOCK / 2) * (long) b, LE);
            FloatVector e = v.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(FloatVector.fromArray(F, xp, c));
            FloatVector f = v.selectFrom(t, t).reinterpretAsFloats().mul(FloatVector.fromArray(F, xp, c + 16));
            e = v.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 32), e);
            f = v.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 48), f);
            e = v.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 64), e);
            f = v.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 80), f);
            e = v.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 96), e);
            f = v.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 112), f);
            a = e.add(f).fma(FloatVector.broadcast(F, am[b]).blend(am[b + 1], UPPER), a);
        }
        return a.reduceLanes(VectorOperators.ADD);
    }
}
