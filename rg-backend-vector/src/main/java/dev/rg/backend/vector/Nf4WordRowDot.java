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
 * The 4-bit kernel for 512-bit shapes and rows of whole 128-element chunks (every linear layer of RecurrentGemma):
 * codes read as 32-bit words. {@link Nf4RowDot} widens each 16 bytes of codes to an int vector (a cross-lane
 * shuffle, {@code vpmovsxbd}) before its table lookups (shuffles too); on the 2-core Zen 5 those shuffles, not the
 * memory, bound NF4 decode. Here one 64-byte load is an int vector whose lane {@code l} holds the eight codes
 * {@code 8l .. 8l + 7} of a 128-element chunk, and a logical shift right by 4, 0, 12, 8, 20, 16, 28 or 24 bits puts
 * code {@code 8l + p} (p = 0..7) in the low nibble of every lane; the lookup {@code idx.selectFrom(t, t)} wraps the
 * index mod 32, which drops the other codes' bits (the table is repeated, so bit 4 picks an identical copy). No
 * widening: 8 shuffles per 128 codes instead of 12.
 *
 * <p>So the activations are permuted once per call to match ({@link #prepare}: in each chunk, vector {@code p} holds
 * elements {@code 8l + p}), and lanes 0-7 of a word belong to the chunk's first 64-block, lanes 8-15 to its second:
 * the scale vector is the two blocks' absmax values blended ({@code UPPER}). Decode sums each lane's eight products in
 * two FMA chains (even and odd {@code p}: shorter dependency chains) and scales them once per chunk. Batches and
 * prefill multiply the looked-up codes by the scale vector first, which is the reference's dequantised weight
 * {@code table[code] * absmax} exactly (one float32 multiply), then use it for every activation row.
 *
 * <p>Measured before it was built (a scratch program, one pinned thread, 512 x 2048 NF4 codes from L2, four rows at a
 * time, G weights/s, three rounds): the widening kernel 30.3 / 28.6 / 30.3, this one 37.6 / 34.9 / 37.6; with one
 * FMA chain per row instead of two 33.6 / 33.7; with the scale folded into two looked-up tables (an index bit per lane
 * half, two more logic ops per lookup) 19.3-20.0.
 */
final class Nf4WordRowDot extends QuantRowDot {
    /** Elements per absmax. */
    static final int BLOCK = VectorFormats.FOUR_BIT_BLOCK;
    /** Elements per 64-byte word vector: two blocks. */
    static final int CHUNK = 2 * BLOCK;
    /** Lanes 8-15, which belong to a chunk's second block. */
    private static final VectorMask<Float> UPPER = VectorMask.fromLong(F, 0xFF00L);
    /** The shift that brings code {@code 8l + p} of a lane's word to its low nibble (high nibble first in a byte). */
    private static final int[] SHIFT = {4, 0, 12, 8, 20, 16, 28, 24};

    private final int[] tableBits;
    /** The natural-order kernel, whose row dequantisation the embedding lookup shares. */
    private final Nf4RowDot natural;

    Nf4WordRowDot(float[] codeBook) {
        if (codeBook.length != 16) {
            throw new IllegalArgumentException("a 4-bit code book has 16 values, not " + codeBook.length);
        }
        this.tableBits = new int[16];
        for (int i = 0; i < 16; i++) {
            tableBits[i] = Float.floatToRawIntBits(codeBook[i]);
        }
        this.natural = Nf4RowDot.general(codeBook);
    }

    /** Whether this kernel runs a weight of {@code cols} columns here. */
    static boolean applies(int cols) {
        return L == 16 && cols % CHUNK == 0 && K_BLOCK % CHUNK == 0;
    }

    @Override
    boolean direct() {
        return true;
    }

    @Override
    float[] prepare(float[] x, int n, int k, float[] dst) {
        for (int i = 0; i < n; i++) {
            for (int g = i * k; g < (i + 1) * k; g += CHUNK) {
                for (int p = 0; p < 8; p++) {
                    for (int l = 0; l < 16; l++) {
                        dst[g + 16 * p + l] = x[g + 8 * l + p];
                    }
                }
            }
        }
        return dst;
    }

    @Override
    void dequantizeRow(VectorWeight w, long row, float[] dst, int off) {
        natural.dequantizeRow(w, row, dst, off);
    }

    @Override
    void dequantize(VectorWeight w, int j, int rows, int c0, int len, float[] wt, int ws) {
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        IntVector t = IntVector.fromArray(I, tableBits, 0);
        for (int r = 0; r < rows; r++) {
            long e = (long) (j + r) * k + c0; // a multiple of 128: rows are whole chunks, c0 a multiple of K_BLOCK
            for (int c = 0; c < len; c += CHUNK) {
                long blk = (e + c) / BLOCK;
                FloatVector s = FloatVector.broadcast(F, sc.get(DenseWeights.F32_LE, 4 * blk))
                        .blend(sc.get(DenseWeights.F32_LE, 4 * blk + 4), UPPER);
                IntVector v = IntVector.fromMemorySegment(I, d, (e + c) >>> 1, LE);
                int o = r * ws + c;
                for (int p = 0; p < 8; p++) {
                    v.lanewise(VectorOperators.LSHR, SHIFT[p]).selectFrom(t, t).reinterpretAsFloats().mul(s)
                            .intoArray(wt, o + 16 * p);
                }
            }
        }
    }

    @Override
    void decode(VectorWeight w, float[] xp, int j0, int j1, float[] out, float[] am) {
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        int nb = k / BLOCK;
        // the unit's rows as four sequential streams (RowDot.spread); their absmax values copied into L1-resident
        // scratch, so that the chunk loop has no scalar segment reads (each costs C2 nodes; past its budget it stops
        // inlining and boxes vectors)
        int q = spread(j0, j1);
        for (int j = j0; j < j0 + q; j++) {
            for (int c = 0; c < 4; c++) {
                MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * ((long) (j + c * q) * nb), am, c * nb, nb);
            }
            rows4(d, (long) j * k >>> 1, (long) q * k / 2, am, nb, xp, tableBits, out, j, q);
        }
        for (int j = j0 + 4 * q; j < j1; j++) {
            MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * ((long) j * nb), am, 0, nb);
            out[j] = row1(d, (long) j * k >>> 1, am, nb, xp, tableBits);
        }
    }

    /**
     * Batched decode: two weight rows at a time, each looked-up vector scaled to the dequantised weights and
     * multiplied with four, two or one activation rows from registers (activation groups outermost: a group's rows
     * stay in L1 while the unit's weights go past). An odd last row takes the dequantise-and-tile path.
     */
    @Override
    int batch(VectorWeight w, float[] xp, int n, int j0, int j1, float[] out, float[] am) {
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        int outCols = w.rows();
        int nb = k / BLOCK;
        int jp = j0 + (j1 - j0) / 2 * 2;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            for (int j = j0; j < jp; j += 2) {
                MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * ((long) j * nb), am, 0, 2 * nb);
                rows2x4(d, (long) j * k >>> 1, k / 2, am, nb, xp, i * k, k, tableBits, out, i * outCols + j, outCols);
            }
        }
        if (i + 2 <= n) {
            for (int j = j0; j < jp; j += 2) {
                MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * ((long) j * nb), am, 0, 2 * nb);
                rows2x2(d, (long) j * k >>> 1, k / 2, am, nb, xp, i * k, k, tableBits, out, i * outCols + j, outCols);
            }
            i += 2;
        }
        if (i < n) {
            for (int j = j0; j < jp; j += 2) {
                MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * ((long) j * nb), am, 0, 2 * nb);
                rows2x1(d, (long) j * k >>> 1, k / 2, am, nb, xp, i * k, tableBits, out, i * outCols + j);
            }
        }
        return jp;
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

    /** Two weight rows (codes from byte {@code q0}, {@code rb} apart) x 4 activation rows ({@code xs} apart). */
    private static void rows2x4(MemorySegment d, long q0, int rb, float[] am, int nb, float[] xp, int x0, int xs,
            int[] tableBits, float[] out, int o, int outCols) {
        IntVector t = IntVector.fromArray(I, tableBits, 0);
        long q1 = q0 + rb;
        int x1 = x0 + xs;
        int x2 = x1 + xs;
        int x3 = x2 + xs;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a02 = a00;
        FloatVector a03 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a12 = a00;
        FloatVector a13 = a00;
        for (int b = 0; b < nb; b += 2) {
            int c = b * BLOCK;
            long qb = (BLOCK / 2) * (long) b;
            IntVector v0 = IntVector.fromMemorySegment(I, d, q0 + qb, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, d, q1 + qb, LE);
            FloatVector s0 = FloatVector.broadcast(F, am[b]).blend(am[b + 1], UPPER);
            FloatVector s1 = FloatVector.broadcast(F, am[nb + b]).blend(am[nb + b + 1], UPPER);
            FloatVector w0 = v0.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            FloatVector w1 = v1.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            FloatVector x = FloatVector.fromArray(F, xp, x0 + c);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            x = FloatVector.fromArray(F, xp, x2 + c);
            a02 = w0.fma(x, a02);
            a12 = w1.fma(x, a12);
            x = FloatVector.fromArray(F, xp, x3 + c);
            a03 = w0.fma(x, a03);
            a13 = w1.fma(x, a13);
            w0 = v0.selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 16);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 16);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            x = FloatVector.fromArray(F, xp, x2 + c + 16);
            a02 = w0.fma(x, a02);
            a12 = w1.fma(x, a12);
            x = FloatVector.fromArray(F, xp, x3 + c + 16);
            a03 = w0.fma(x, a03);
            a13 = w1.fma(x, a13);
            w0 = v0.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 32);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 32);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            x = FloatVector.fromArray(F, xp, x2 + c + 32);
            a02 = w0.fma(x, a02);
            a12 = w1.fma(x, a12);
            x = FloatVector.fromArray(F, xp, x3 + c + 32);
            a03 = w0.fma(x, a03);
            a13 = w1.fma(x, a13);
            w0 = v0.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 48);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 48);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            x = FloatVector.fromArray(F, xp, x2 + c + 48);
            a02 = w0.fma(x, a02);
            a12 = w1.fma(x, a12);
            x = FloatVector.fromArray(F, xp, x3 + c + 48);
            a03 = w0.fma(x, a03);
            a13 = w1.fma(x, a13);
            w0 = v0.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 64);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 64);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            x = FloatVector.fromArray(F, xp, x2 + c + 64);
            a02 = w0.fma(x, a02);
            a12 = w1.fma(x, a12);
            x = FloatVector.fromArray(F, xp, x3 + c + 64);
            a03 = w0.fma(x, a03);
            a13 = w1.fma(x, a13);
            w0 = v0.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 80);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 80);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            x = FloatVector.fromArray(F, xp, x2 + c + 80);
            a02 = w0.fma(x, a02);
            a12 = w1.fma(x, a12);
            x = FloatVector.fromArray(F, xp, x3 + c + 80);
            a03 = w0.fma(x, a03);
            a13 = w1.fma(x, a13);
            w0 = v0.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 96);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 96);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            x = FloatVector.fromArray(F, xp, x2 + c + 96);
            a02 = w0.fma(x, a02);
            a12 = w1.fma(x, a12);
            x = FloatVector.fromArray(F, xp, x3 + c + 96);
            a03 = w0.fma(x, a03);
            a13 = w1.fma(x, a13);
            w0 = v0.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 112);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 112);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            x = FloatVector.fromArray(F, xp, x2 + c + 112);
            a02 = w0.fma(x, a02);
            a12 = w1.fma(x, a12);
            x = FloatVector.fromArray(F, xp, x3 + c + 112);
            a03 = w0.fma(x, a03);
            a13 = w1.fma(x, a13);
        }
        out[o] = a00.reduceLanes(VectorOperators.ADD);
        out[o + 1] = a10.reduceLanes(VectorOperators.ADD);
        out[o + outCols] = a01.reduceLanes(VectorOperators.ADD);
        out[o + outCols + 1] = a11.reduceLanes(VectorOperators.ADD);
        out[o + 2 * outCols] = a02.reduceLanes(VectorOperators.ADD);
        out[o + 2 * outCols + 1] = a12.reduceLanes(VectorOperators.ADD);
        out[o + 3 * outCols] = a03.reduceLanes(VectorOperators.ADD);
        out[o + 3 * outCols + 1] = a13.reduceLanes(VectorOperators.ADD);
    }

    /** Two weight rows (codes from byte {@code q0}, {@code rb} apart) x 2 activation rows ({@code xs} apart). */
    private static void rows2x2(MemorySegment d, long q0, int rb, float[] am, int nb, float[] xp, int x0, int xs,
            int[] tableBits, float[] out, int o, int outCols) {
        IntVector t = IntVector.fromArray(I, tableBits, 0);
        long q1 = q0 + rb;
        int x1 = x0 + xs;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        for (int b = 0; b < nb; b += 2) {
            int c = b * BLOCK;
            long qb = (BLOCK / 2) * (long) b;
            IntVector v0 = IntVector.fromMemorySegment(I, d, q0 + qb, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, d, q1 + qb, LE);
            FloatVector s0 = FloatVector.broadcast(F, am[b]).blend(am[b + 1], UPPER);
            FloatVector s1 = FloatVector.broadcast(F, am[nb + b]).blend(am[nb + b + 1], UPPER);
            FloatVector w0 = v0.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            FloatVector w1 = v1.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            FloatVector x = FloatVector.fromArray(F, xp, x0 + c);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 16);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 16);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 32);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 32);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 48);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 48);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 64);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 64);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 80);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 80);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 96);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 96);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 112);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 112);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
        }
        out[o] = a00.reduceLanes(VectorOperators.ADD);
        out[o + 1] = a10.reduceLanes(VectorOperators.ADD);
        out[o + outCols] = a01.reduceLanes(VectorOperators.ADD);
        out[o + outCols + 1] = a11.reduceLanes(VectorOperators.ADD);
    }

    /** Two weight rows (codes from byte {@code q0}, {@code rb} apart) x 1 activation row. */
    private static void rows2x1(MemorySegment d, long q0, int rb, float[] am, int nb, float[] xp, int x0,
            int[] tableBits, float[] out, int o) {
        IntVector t = IntVector.fromArray(I, tableBits, 0);
        long q1 = q0 + rb;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a10 = a00;
        for (int b = 0; b < nb; b += 2) {
            int c = b * BLOCK;
            long qb = (BLOCK / 2) * (long) b;
            IntVector v0 = IntVector.fromMemorySegment(I, d, q0 + qb, LE);
            IntVector v1 = IntVector.fromMemorySegment(I, d, q1 + qb, LE);
            FloatVector s0 = FloatVector.broadcast(F, am[b]).blend(am[b + 1], UPPER);
            FloatVector s1 = FloatVector.broadcast(F, am[nb + b]).blend(am[nb + b + 1], UPPER);
            FloatVector w0 = v0.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            FloatVector w1 = v1.lanewise(VectorOperators.LSHR, 4).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            FloatVector x = FloatVector.fromArray(F, xp, x0 + c);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            w0 = v0.selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 16);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            w0 = v0.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 12).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 32);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            w0 = v0.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 8).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 48);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            w0 = v0.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 20).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 64);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            w0 = v0.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 16).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 80);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            w0 = v0.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 28).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 96);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            w0 = v0.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().mul(s0);
            w1 = v1.lanewise(VectorOperators.LSHR, 24).selectFrom(t, t).reinterpretAsFloats().mul(s1);
            x = FloatVector.fromArray(F, xp, x0 + c + 112);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
        }
        out[o] = a00.reduceLanes(VectorOperators.ADD);
        out[o + 1] = a10.reduceLanes(VectorOperators.ADD);
    }
}
