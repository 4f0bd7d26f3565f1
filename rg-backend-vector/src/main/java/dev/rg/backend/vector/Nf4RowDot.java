package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.B;
import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.I;
import static dev.rg.backend.vector.Simd.L;
import static dev.rg.backend.vector.Simd.LE;

import dev.rg.quant.FourBitFormat;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The bitsandbytes 4-bit formats ({@code nf4}, {@code fp4}; {@code nf4-dq}/{@code fp4-dq} are turned into these
 * once at load by {@link FourBitFormat#toSingleQuantized}, which dequantises to identical bits): packed codes over
 * the flattened tensor, even element in the high nibble, one float32 absmax per 64 elements of the flattened
 * tensor; {@code w = codeBook[code] * absmax}.
 *
 * <p>Decoding on vectors, no scalar nibble handling: a load of {@code L} bytes ({@code 2 L} codes) is sign-extended
 * to an int vector ({@code B2I}, one {@code vpmovsxbd}); {@code lanes >> 4} holds the even elements' codes and the
 * lanes themselves the odd ones' (in their low 4 bits). The code book is held as int vectors of float32 bit patterns
 * and {@code idx.selectFrom(t0, t1)} looks all lanes up at once (one {@code vpermi2d}): on 512-bit shapes
 * {@code t0 = t1 =} the 16 entries and the index wraps mod 32, on 256-bit shapes {@code t0}, {@code t1} are entries 0-7
 * and 8-15 and it wraps mod 16; either way the wrap (which C2 emits as one AND) discards every bit above the nibble,
 * so no mask of ours is needed. The looked-up bits are reinterpreted as floats. Activations are de-interleaved once
 * per call to match ({@link #prepare}: per group of {@code 2 L} elements, the {@code L} even ones then the {@code L}
 * odd ones), so the even and odd codes of one load meet their activations with two plain FMAs and no shuffle back.
 * Per 32 weights of a row that is 8 vector ops (widen, shift, 2 x (wrap + permute), 2 FMAs) plus a quarter of the
 * block's absmax FMA; bf16 needs 4. Measured on the 2-core AVX-512 machine, one thread, weights in L2: about 15 G
 * weights/s against bf16's 32 (and int8's 15): the 4-bit kernel is compute-bound on 2 cores.
 *
 * <p>Decode accumulates each 64-block's partial dot product (four rows at a time, sharing the activation loads)
 * and multiplies it by the block's absmax once ({@code acc = fma(partial, absmax, acc)}). Batches and prefill:
 * {@link QuantRowDot}, dequantising {@code table[code] * absmax} exactly as the reference.
 *
 * <p>Shapes: the vectorised kernel needs every row to start a block ({@code cols % 64 == 0}, true of every linear
 * layer and the embedding of RecurrentGemma). Other shapes (blocks crossing row ends, e.g. a 96-wide layer of a
 * tiny test model) and 128-bit vector shapes get a {@linkplain #general general} instance: activations in natural
 * order, weights dequantised element by element (scalar, with the block found per element) into scratch, then the
 * same float tiles. It is correct for any shape and slower on the dequantisation; nothing real hits it.
 */
final class Nf4RowDot extends QuantRowDot {
    /** Elements per absmax; the unrolled kernels below assume 64 (2 groups of 2 x 16 codes, or 4 of 2 x 8). */
    static final int BLOCK = VectorFormats.FOUR_BIT_BLOCK;
    private static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    private final float[] table;
    private final int[] tableBits;
    private final boolean packed;

    private Nf4RowDot(float[] codeBook, boolean packed) {
        if (codeBook.length != 16) {
            throw new IllegalArgumentException("a 4-bit code book has 16 values, not " + codeBook.length);
        }
        this.table = codeBook.clone();
        this.tableBits = new int[16];
        for (int i = 0; i < 16; i++) {
            tableBits[i] = Float.floatToRawIntBits(table[i]);
        }
        this.packed = packed;
    }

    /** The vectorised kernel, for weights whose rows are whole 64-blocks. */
    static Nf4RowDot vectorised(float[] codeBook) {
        return new Nf4RowDot(codeBook, true);
    }

    /** The kernel for any shape (blocks may cross row ends): scalar dequantisation, float tiles. */
    static Nf4RowDot general(float[] codeBook) {
        return new Nf4RowDot(codeBook, false);
    }

    /** Whether {@link #vectorised} can run a weight of {@code cols} columns here. */
    static boolean vectorisable(int cols) {
        return cols % BLOCK == 0 && Simd.BYTE_LANES && (L == 16 || L == 8);
    }

    @Override
    boolean direct() {
        return packed;
    }

    @Override
    float[] prepare(float[] x, int n, int k, float[] dst) {
        if (!packed) {
            return x;
        }
        int g2 = 2 * L;
        int kg = k / g2 * g2;
        for (int i = 0; i < n; i++) {
            int b = i * k;
            for (int g = b; g < b + kg; g += g2) {
                for (int p = 0; p < L; p++) {
                    dst[g + p] = x[g + 2 * p];
                    dst[g + L + p] = x[g + 2 * p + 1];
                }
            }
            for (int c = kg; c < k; c++) {
                dst[b + c] = x[b + c];
            }
        }
        return dst;
    }

    @Override
    int preparedSize(int n, int k) {
        return packed ? Math.multiplyExact(n, k) : 0;
    }

    private static float absmax(MemorySegment sc, long block) {
        return sc.get(DenseWeights.F32_LE, block * 4);
    }

    /*
     * The code book as int bits, loaded per call as t0 = lanes [0, L), t1 = the next L lanes (wrapping to the start on
     * 512-bit shapes). idx.selectFrom(t0, t1) then looks up the low 4 bits of every lane on either shape: 512-bit, both
     * are the whole 16-entry table (the index wraps mod 32, so its bit 4 picks an identical copy); 256-bit, they are
     * entries 0-7 and 8-15 (the index wraps mod 16). Vectors are never passed to or returned from helper methods here:
     * one that C2 does not inline would box them (an allocation per call).
     */
    /** Element {@code i} of the flattened tensor, dequantised as the reference does. */
    private float element(MemorySegment d, MemorySegment sc, long i) {
        int b = d.get(I8, i >>> 1);
        int code = (i & 1) == 0 ? (b >> 4) & 0xF : b & 0xF;
        return table[code] * absmax(sc, i / BLOCK);
    }

    @Override
    void dequantizeRow(VectorWeight w, long row, float[] dst, int off) {
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        long base = row * k;
        int c = 0;
        if ((base & 1) == 0) {
            // whole bytes: both nibbles at once, the absmax once per block
            long blockEnd = -1;
            float m = 0f;
            for (; c + 1 < k; c += 2) {
                long i = base + c;
                if (i >= blockEnd) {
                    m = absmax(sc, i / BLOCK);
                    blockEnd = (i / BLOCK + 1) * BLOCK;
                }
                int b = d.get(I8, i >>> 1);
                dst[off + c] = table[(b >> 4) & 0xF] * m;
                dst[off + c + 1] = table[b & 0xF] * m;
            }
        }
        for (; c < k; c++) {
            dst[off + c] = element(d, sc, base + c);
        }
    }

    @Override
    void dequantize(VectorWeight w, int j, int rows, int c0, int len, float[] wt, int ws) {
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        if (!packed) {
            for (int r = 0; r < rows; r++) {
                long base = (long) (j + r) * k + c0;
                int o = r * ws;
                for (int c = 0; c < len; c++) {
                    wt[o + c] = element(d, sc, base + c);
                }
            }
            return;
        }
        IntVector t0 = IntVector.fromArray(I, tableBits, 0);
        IntVector t1 = IntVector.fromArray(I, tableBits, L == 16 ? 0 : 8);
        int nb = len / BLOCK;
        for (int r = 0; r < rows; r++) {
            long e = (long) (j + r) * k + c0; // a multiple of 64: rows are whole blocks, c0 a multiple of K_BLOCK
            long q = e >>> 1;
            long m = 4 * (e / BLOCK);
            int o = r * ws;
            // block-indexed, no inner loop, vector calls written out (no helper method: C2 may refuse to inline a
            // helper in a large method, and the vectors would then be boxed): every offset is linear in b, so C2
            // hoists the bounds checks
            for (int b = 0; b < nb; b++) {
                FloatVector s = FloatVector.broadcast(F, sc.get(DenseWeights.F32_LE, m + 4L * b));
                int c = o + b * BLOCK;
                long qb = q + (BLOCK / 2) * (long) b;
                IntVector v = (IntVector) ByteVector.fromMemorySegment(B, d, qb, LE).convertShape(VectorOperators.B2I, I, 0);
                v.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().mul(s).intoArray(wt, c);
                v.selectFrom(t0, t1).reinterpretAsFloats().mul(s).intoArray(wt, c + L);
                v = (IntVector) ByteVector.fromMemorySegment(B, d, qb + L, LE).convertShape(VectorOperators.B2I, I, 0);
                v.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().mul(s).intoArray(wt, c + 2 * L);
                v.selectFrom(t0, t1).reinterpretAsFloats().mul(s).intoArray(wt, c + 3 * L);
                if (L == 8) {
                    v = (IntVector) ByteVector.fromMemorySegment(B, d, qb + 2 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                    v.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().mul(s).intoArray(wt, c + 4 * L);
                    v.selectFrom(t0, t1).reinterpretAsFloats().mul(s).intoArray(wt, c + 5 * L);
                    v = (IntVector) ByteVector.fromMemorySegment(B, d, qb + 3 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                    v.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().mul(s).intoArray(wt, c + 6 * L);
                    v.selectFrom(t0, t1).reinterpretAsFloats().mul(s).intoArray(wt, c + 7 * L);
                }
            }
        }
    }

    @Override
    void decode(VectorWeight w, float[] xp, int j0, int j1, float[] out, float[] am) {
        decodeUnit(w, xp, j0, j1, out, am, tableBits, Nf4RowDot::rows4, Nf4RowDot::row1);
    }

    /** A decode kernel's tile of four weight rows ({@code rb} bytes apart), as {@link #rows4} takes it. */
    @FunctionalInterface
    interface FourRows {
        void run(MemorySegment d, long q0, long rb, float[] am, int nb, float[] xp, int[] tableBits, float[] out, int o,
                int os);
    }

    /** A decode kernel's single weight row, as {@link #row1} takes it. */
    @FunctionalInterface
    interface OneRow {
        float run(MemorySegment d, long q, float[] am, int nb, float[] xp, int[] tableBits);
    }

    /**
     * One activation row against weight rows {@code [j0, j1)} of a 4-bit weight whose rows are whole 64-blocks: the
     * unit's rows as four sequential streams ({@link RowDot#spread}) through {@code four}, the rows left over through
     * {@code one}. Each tile's absmax values are first copied into {@code am} (L1-resident scratch), so that the kernels'
     * block loops have no scalar segment reads (each costs C2 many nodes; past its budget it stops inlining and boxes
     * vectors). Shared by this kernel and {@link Nf4WordRowDot}.
     */
    static void decodeUnit(VectorWeight w, float[] xp, int j0, int j1, float[] out, float[] am, int[] tableBits,
            FourRows four, OneRow one) {
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        int nb = k / BLOCK;
        int q = spread(j0, j1);
        for (int j = j0; j < j0 + q; j++) {
            for (int c = 0; c < 4; c++) {
                MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * ((long) (j + c * q) * nb), am, c * nb, nb);
            }
            four.run(d, (long) j * k >>> 1, (long) q * k / 2, am, nb, xp, tableBits, out, j, q);
        }
        for (int j = j0 + 4 * q; j < j1; j++) {
            MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * ((long) j * nb), am, 0, nb);
            out[j] = one.run(d, (long) j * k >>> 1, am, nb, xp, tableBits);
        }
    }

    /**
     * Batched decode on 512-bit shapes: two weight rows at a time, the code book scaled by each row's block absmax
     * (one multiply per block: the looked-up lanes are then {@code table[code] * absmax}, the reference's dequantised
     * weights exactly), every decoded vector multiplied with four, two or one activation rows from registers (activation groups outermost). Per 64
     * weights of a row: 9 decoding ops shared by the batch, one FMA per activation row and 16 weights. An odd last
     * row takes the dequantise-and-tile path.
     */
    @Override
    int batch(VectorWeight w, float[] xp, int n, int j0, int j1, float[] out, float[] am) {
        if (!packed || L != 16) {
            return j0;
        }
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        int outCols = w.rows();
        int nb = k / BLOCK;
        int jp = j0 + (j1 - j0) / 2 * 2;
        // activation groups outermost: a group's four rows (4 x 10 KB for 2560 columns) stay in L1 while the unit's
        // weights go past; the first group streams them from memory, the others find them in L2
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            for (int j = j0; j < jp; j += 2) {
                long e = (long) j * k;
                MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * (e / BLOCK), am, 0, 2 * nb);
                rows2x4(d, e >>> 1, k / 2, am, nb, xp, i * k, k, table, out, i * outCols + j, outCols);
            }
        }
        if (i + 2 <= n) {
            for (int j = j0; j < jp; j += 2) {
                long e = (long) j * k;
                MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * (e / BLOCK), am, 0, 2 * nb);
                rows2x2(d, e >>> 1, k / 2, am, nb, xp, i * k, k, table, out, i * outCols + j, outCols);
            }
            i += 2;
        }
        if (i < n) {
            for (int j = j0; j < jp; j += 2) {
                long e = (long) j * k;
                MemorySegment.copy(sc, DenseWeights.F32_LE, 4 * (e / BLOCK), am, 0, 2 * nb);
                rows2x1(d, e >>> 1, k / 2, am, nb, xp, i * k, table, out, i * outCols + j);
            }
        }
        return jp;
    }

    /** Two weight rows (codes from byte {@code q0}, {@code rb} apart) x four activation rows ({@code xs} apart). */
    private static void rows2x4(MemorySegment d, long q0, int rb, float[] am, int nb, float[] xp, int x0, int xs,
            float[] table, float[] out, int o, int outCols) {
        FloatVector tf = FloatVector.fromArray(F, table, 0);
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
        for (int b = 0; b < nb; b++) {
            int c = b * BLOCK;
            long qb = (BLOCK / 2) * (long) b;
            IntVector s0 = tf.mul(am[b]).reinterpretAsInts();
            IntVector s1 = tf.mul(am[nb + b]).reinterpretAsInts();
            IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector w0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(s0, s0).reinterpretAsFloats();
            FloatVector w1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(s1, s1).reinterpretAsFloats();
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
            w0 = v0.selectFrom(s0, s0).reinterpretAsFloats();
            w1 = v1.selectFrom(s1, s1).reinterpretAsFloats();
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
            v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb + 16, LE).convertShape(VectorOperators.B2I, I, 0);
            v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb + 16, LE).convertShape(VectorOperators.B2I, I, 0);
            w0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(s0, s0).reinterpretAsFloats();
            w1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(s1, s1).reinterpretAsFloats();
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
            w0 = v0.selectFrom(s0, s0).reinterpretAsFloats();
            w1 = v1.selectFrom(s1, s1).reinterpretAsFloats();
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

    /** Two weight rows x two activation rows ({@code xs} apart), as {@link #rows2x4}. */
    private static void rows2x2(MemorySegment d, long q0, int rb, float[] am, int nb, float[] xp, int x0, int xs,
            float[] table, float[] out, int o, int outCols) {
        FloatVector tf = FloatVector.fromArray(F, table, 0);
        long q1 = q0 + rb;
        int x1 = x0 + xs;
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        for (int b = 0; b < nb; b++) {
            int c = b * BLOCK;
            long qb = (BLOCK / 2) * (long) b;
            IntVector s0 = tf.mul(am[b]).reinterpretAsInts();
            IntVector s1 = tf.mul(am[nb + b]).reinterpretAsInts();
            IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector w0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(s0, s0).reinterpretAsFloats();
            FloatVector w1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(s1, s1).reinterpretAsFloats();
            FloatVector x = FloatVector.fromArray(F, xp, x0 + c);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.selectFrom(s0, s0).reinterpretAsFloats();
            w1 = v1.selectFrom(s1, s1).reinterpretAsFloats();
            x = FloatVector.fromArray(F, xp, x0 + c + 16);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 16);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb + 16, LE).convertShape(VectorOperators.B2I, I, 0);
            v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb + 16, LE).convertShape(VectorOperators.B2I, I, 0);
            w0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(s0, s0).reinterpretAsFloats();
            w1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(s1, s1).reinterpretAsFloats();
            x = FloatVector.fromArray(F, xp, x0 + c + 32);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 32);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
            w0 = v0.selectFrom(s0, s0).reinterpretAsFloats();
            w1 = v1.selectFrom(s1, s1).reinterpretAsFloats();
            x = FloatVector.fromArray(F, xp, x0 + c + 48);
            a00 = w0.fma(x, a00);
            a10 = w1.fma(x, a10);
            x = FloatVector.fromArray(F, xp, x1 + c + 48);
            a01 = w0.fma(x, a01);
            a11 = w1.fma(x, a11);
        }
        out[o] = a00.reduceLanes(VectorOperators.ADD);
        out[o + 1] = a10.reduceLanes(VectorOperators.ADD);
        out[o + outCols] = a01.reduceLanes(VectorOperators.ADD);
        out[o + outCols + 1] = a11.reduceLanes(VectorOperators.ADD);
    }

    /** Two weight rows x one activation row (a batch's rows past its last group of four), as {@link #rows2x4}. */
    private static void rows2x1(MemorySegment d, long q0, int rb, float[] am, int nb, float[] xp, int x0, float[] table,
            float[] out, int o) {
        FloatVector tf = FloatVector.fromArray(F, table, 0);
        long q1 = q0 + rb;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        for (int b = 0; b < nb; b++) {
            int c = x0 + b * BLOCK;
            long qb = (BLOCK / 2) * (long) b;
            IntVector s0 = tf.mul(am[b]).reinterpretAsInts();
            IntVector s1 = tf.mul(am[nb + b]).reinterpretAsInts();
            IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector x = FloatVector.fromArray(F, xp, c);
            a0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(s0, s0).reinterpretAsFloats().fma(x, a0);
            a1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(s1, s1).reinterpretAsFloats().fma(x, a1);
            x = FloatVector.fromArray(F, xp, c + 16);
            a0 = v0.selectFrom(s0, s0).reinterpretAsFloats().fma(x, a0);
            a1 = v1.selectFrom(s1, s1).reinterpretAsFloats().fma(x, a1);
            v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb + 16, LE).convertShape(VectorOperators.B2I, I, 0);
            v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb + 16, LE).convertShape(VectorOperators.B2I, I, 0);
            x = FloatVector.fromArray(F, xp, c + 32);
            a0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(s0, s0).reinterpretAsFloats().fma(x, a0);
            a1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(s1, s1).reinterpretAsFloats().fma(x, a1);
            x = FloatVector.fromArray(F, xp, c + 48);
            a0 = v0.selectFrom(s0, s0).reinterpretAsFloats().fma(x, a0);
            a1 = v1.selectFrom(s1, s1).reinterpretAsFloats().fma(x, a1);
        }
        out[o] = a0.reduceLanes(VectorOperators.ADD);
        out[o + 1] = a1.reduceLanes(VectorOperators.ADD);
    }

    private static float row1(MemorySegment d, long q, float[] am, int nb, float[] xp, int[] tableBits) {
        // the code book is loaded here, not passed in: a vector argument of a method that is not inlined is boxed
        IntVector t0 = IntVector.fromArray(I, tableBits, 0);
        IntVector t1 = IntVector.fromArray(I, tableBits, L == 16 ? 0 : 8);
        FloatVector a = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            int c = b * BLOCK;
            long qb = q + (BLOCK / 2) * (long) b;
            IntVector v = (IntVector) ByteVector.fromMemorySegment(B, d, qb, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector p = v.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats()
                    .mul(FloatVector.fromArray(F, xp, c));
            p = v.selectFrom(t0, t1).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + L), p);
            v = (IntVector) ByteVector.fromMemorySegment(B, d, qb + L, LE).convertShape(VectorOperators.B2I, I, 0);
            p = v.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, xp, c + 2 * L), p);
            p = v.selectFrom(t0, t1).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 3 * L), p);
            if (L == 8) {
                v = (IntVector) ByteVector.fromMemorySegment(B, d, qb + 2 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                p = v.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(F, xp, c + 4 * L), p);
                p = v.selectFrom(t0, t1).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 5 * L), p);
                v = (IntVector) ByteVector.fromMemorySegment(B, d, qb + 3 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                p = v.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(F, xp, c + 6 * L), p);
                p = v.selectFrom(t0, t1).reinterpretAsFloats().fma(FloatVector.fromArray(F, xp, c + 7 * L), p);
            }
            a = p.fma(FloatVector.broadcast(F, am[b]), a);
        }
        return a.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Four rows whose codes start at byte {@code q0} ({@code rb} bytes apart), {@code nb} blocks each, their absmax
     * in {@code am} ({@code nb} apart), into {@code out[o + c * os]}. Block-indexed, the block's groups written out
     * ({@code L} is a constant: the {@code L == 8} part is never parsed on 512-bit shapes), the vector calls written
     * out too (no helper methods: past its node budget C2 stops inlining helpers and boxes their vectors): every
     * offset is linear in the loop variable, so C2 hoists all bounds checks out of the loop.
     */
    private static void rows4(MemorySegment d, long q0, long rb, float[] am, int nb, float[] xp, int[] tableBits,
            float[] out, int o, int os) {
        IntVector t0 = IntVector.fromArray(I, tableBits, 0);
        IntVector t1 = IntVector.fromArray(I, tableBits, L == 16 ? 0 : 8);
        long q1 = q0 + rb;
        long q2 = q1 + rb;
        long q3 = q2 + rb;
        int m1 = nb;
        int m2 = 2 * nb;
        int m3 = 3 * nb;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int b = 0; b < nb; b++) {
            int c = b * BLOCK;
            long qb = (BLOCK / 2) * (long) b;
            FloatVector xe = FloatVector.fromArray(F, xp, c);
            FloatVector xo = FloatVector.fromArray(F, xp, c + L);
            IntVector v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector v2 = (IntVector) ByteVector.fromMemorySegment(B, d, q2 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            IntVector v3 = (IntVector) ByteVector.fromMemorySegment(B, d, q3 + qb, LE).convertShape(VectorOperators.B2I, I, 0);
            FloatVector p0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().mul(xe);
            FloatVector p1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().mul(xe);
            FloatVector p2 = v2.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().mul(xe);
            FloatVector p3 = v3.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().mul(xe);
            p0 = v0.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p0);
            p1 = v1.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p1);
            p2 = v2.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p2);
            p3 = v3.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p3);
            xe = FloatVector.fromArray(F, xp, c + 2 * L);
            xo = FloatVector.fromArray(F, xp, c + 3 * L);
            v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb + L, LE).convertShape(VectorOperators.B2I, I, 0);
            v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb + L, LE).convertShape(VectorOperators.B2I, I, 0);
            v2 = (IntVector) ByteVector.fromMemorySegment(B, d, q2 + qb + L, LE).convertShape(VectorOperators.B2I, I, 0);
            v3 = (IntVector) ByteVector.fromMemorySegment(B, d, q3 + qb + L, LE).convertShape(VectorOperators.B2I, I, 0);
            p0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p0);
            p1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p1);
            p2 = v2.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p2);
            p3 = v3.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p3);
            p0 = v0.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p0);
            p1 = v1.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p1);
            p2 = v2.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p2);
            p3 = v3.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p3);
            if (L == 8) {
                xe = FloatVector.fromArray(F, xp, c + 4 * L);
                xo = FloatVector.fromArray(F, xp, c + 5 * L);
                v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb + 2 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb + 2 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                v2 = (IntVector) ByteVector.fromMemorySegment(B, d, q2 + qb + 2 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                v3 = (IntVector) ByteVector.fromMemorySegment(B, d, q3 + qb + 2 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                p0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p0);
                p1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p1);
                p2 = v2.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p2);
                p3 = v3.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p3);
                p0 = v0.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p0);
                p1 = v1.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p1);
                p2 = v2.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p2);
                p3 = v3.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p3);
                xe = FloatVector.fromArray(F, xp, c + 6 * L);
                xo = FloatVector.fromArray(F, xp, c + 7 * L);
                v0 = (IntVector) ByteVector.fromMemorySegment(B, d, q0 + qb + 3 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                v1 = (IntVector) ByteVector.fromMemorySegment(B, d, q1 + qb + 3 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                v2 = (IntVector) ByteVector.fromMemorySegment(B, d, q2 + qb + 3 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                v3 = (IntVector) ByteVector.fromMemorySegment(B, d, q3 + qb + 3 * L, LE).convertShape(VectorOperators.B2I, I, 0);
                p0 = v0.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p0);
                p1 = v1.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p1);
                p2 = v2.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p2);
                p3 = v3.lanewise(VectorOperators.ASHR, 4).selectFrom(t0, t1).reinterpretAsFloats().fma(xe, p3);
                p0 = v0.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p0);
                p1 = v1.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p1);
                p2 = v2.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p2);
                p3 = v3.selectFrom(t0, t1).reinterpretAsFloats().fma(xo, p3);
            }
            a0 = p0.fma(FloatVector.broadcast(F, am[b]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, am[m1 + b]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, am[m2 + b]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, am[m3 + b]), a3);
        }
        out[o] = a0.reduceLanes(VectorOperators.ADD);
        out[o + os] = a1.reduceLanes(VectorOperators.ADD);
        out[o + 2 * os] = a2.reduceLanes(VectorOperators.ADD);
        out[o + 3 * os] = a3.reduceLanes(VectorOperators.ADD);
    }
}
