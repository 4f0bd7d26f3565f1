package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.B;
import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.I;
import static dev.rg.backend.vector.Simd.L;
import static dev.rg.backend.vector.Simd.LE;
import static dev.rg.backend.vector.Simd.S;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code int8} weights ({@code dev.rg.quant.Int8Format}: signed bytes, one float16 scale per 32 elements of a row,
 * every row starts a new block) read in place from their two parts.
 *
 * <p>Decode: per block of 32 and per weight row, {@code 32 / L} loads of {@code L} bytes, each widened to a float
 * vector ({@code B2F}: {@code vpmovsxbd} + {@code vcvtdq2ps}) and multiplied-added with the activations into the
 * block's partial sum; the partial sum is then multiplied by the block's scale once
 * ({@code acc = fma(partial, scale, acc)}: one op per 32 weights instead of one per vector). Four weight rows at a
 * time share every activation load (as {@link Bf16RowDot}). The float16 scales of those four rows (consecutive in
 * the scale part) are first converted with vector ops into this thread's scratch, so that the block loop broadcasts
 * each from memory; the loop runs over block indices so that every offset is linear in the loop variable and C2
 * hoists all bounds checks. Per 32 weights of a row: 7 vector ops (2 widens, 2 converts, 2 FMAs, the scale FMA);
 * bf16 needs 4. Measured on the 2-core AVX-512 machine, one thread, weights in L2: about 15 G weights/s (bf16 32).
 * A row's last block, when partial ({@code cols % 32 != 0}), is summed in scalar code with the exact dequantised
 * weights.
 *
 * <p>Exactness: {@code q * scale} is exact in float32 (8-bit times 11-bit significands), so the only differences
 * from the reference (float32 weights, double accumulation) are float32 rounding of the sums: well inside the
 * kernel tolerance. Not offered: an integer dot product on activations quantised to int8 per block. It changes
 * results by 0.7% relative (median; 4% at the 90th percentile) on Gaussian 2560-wide rows, thirty times the
 * conformance tolerance, and the Vector API has no {@code vpdpbusd}/{@code vpmaddubsw}: i8 x i8 needs a widen to
 * 16 bits, a 16-bit multiply, two widens to 32 bits and two adds per 32 weights, no fewer ops than the float path.
 *
 * <p>Batches: decode's kernels, two activation rows at a time ({@link #batch}). Prefill: {@link QuantRowDot}, with
 * {@link #dequantize} producing {@code q * scale} exactly.
 */
final class Int8RowDot extends QuantRowDot {
    /** Elements per scale. */
    static final int BLOCK = VectorFormats.INT8_BLOCK;
    private static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
    /**
     * The most activation rows that read int8 weights in place ({@link #batch}): every batch. Against dequantising into
     * scratch first, {@code VectorBench 2 batch-int8 5} (7680 x 2560 from DRAM, two runs, medians): 2 rows 894 / 1171 vs
     * 2099 / 2204 us, 4 rows 1133 / 1494 vs 2485 / 2615, 8 rows 2283 / 2302 vs 3236 / 3133, 12 rows 3091 / 3209 vs 3677 /
     * 3770, 16 rows 4056 / 3946 vs 4469 / 4303. {@code -Drg.vector.int8DirectRows} overrides it for tuning.
     */
    static final int DIRECT_ROWS = Integer.getInteger("rg.vector.int8DirectRows", RowDot.BATCH_MAX);

    @Override
    boolean direct() {
        return Simd.BYTE_LANES;
    }

    static int blocksPerRow(int k) {
        return (k + BLOCK - 1) / BLOCK;
    }

    /** The scale at byte offset {@code off} of the scale part. */
    private static float scale(MemorySegment sc, long off) {
        return Float.float16ToFloat(sc.get(DenseWeights.I16_LE, off));
    }

    /**
     * The embedding lookup: one row per token, scalar. It runs once per token, so it may stay in C1 (which runs the
     * Vector API as objects, allocating) for thousands of tokens before C2 compiles it; scalar code allocates nothing
     * in any tier, and a 2560-wide row takes a few microseconds.
     */
    @Override
    void dequantizeRow(VectorWeight w, long row, float[] dst, int off) {
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        long db = row * k;
        long sb = 2L * row * blocksPerRow(k);
        for (int c0 = 0, b = 0; c0 < k; c0 += BLOCK, b++) {
            float s = scale(sc, sb + 2L * b);
            int end = Math.min(k, c0 + BLOCK);
            for (int c = c0; c < end; c++) {
                dst[off + c] = d.get(I8, db + c) * s;
            }
        }
    }

    @Override
    void dequantize(VectorWeight w, int j, int rows, int c0, int len, float[] wt, int ws) {
        int k = w.cols();
        for (int r = 0; r < rows; r++) {
            dequantizeRange(w.data(), w.scales(), j + r, k, c0, len, wt, r * ws);
        }
    }

    /** Columns {@code [c0, c0 + len)} of row {@code row} ({@code c0} a multiple of 32) into {@code dst[off ..]}. */
    private static void dequantizeRange(MemorySegment d, MemorySegment sc, long row, int k, int c0, int len, float[] dst,
            int off) {
        long db = row * k + c0;
        long sb = 2L * (row * blocksPerRow(k) + c0 / BLOCK);
        int c = 0;
        if (Simd.BYTE_LANES) {
            // block-indexed, offsets linear in the loop variable (C2 hoists the bounds checks)
            int full = len / BLOCK;
            for (int b = 0; b < full; b++) {
                FloatVector s = FloatVector.broadcast(F, scale(sc, sb + 2L * b));
                long cb = db + (long) b * BLOCK;
                int o = off + b * BLOCK;
                ((FloatVector) ByteVector.fromMemorySegment(B, d, cb, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(dst, o);
                ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + L, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(dst, o + L);
                if (L == 8) {
                    ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + 16, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(dst, o + 16);
                    ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + 24, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(dst, o + 24);
                }
            }
            c = full * BLOCK;
        }
        for (; c < len; c++) {
            dst[off + c] = d.get(I8, db + c) * scale(sc, sb + 2L * (c / BLOCK));
        }
    }

    @Override
    void decode(VectorWeight w, float[] x, int j0, int j1, float[] out, float[] sf) {
        inPlace(w, x, 1, j0, j1, out, sf);
    }

    /**
     * Batches of up to {@link #DIRECT_ROWS} rows read the weights in place as decode does, two activation rows at a
     * time ({@link #rows4x2}): each widened weight vector feeds both, and each row is summed exactly as decode sums it,
     * so a batched row has the bits of the row decoded alone. Prefill chunks dequantise once into scratch and reuse it
     * for every row ({@link QuantRowDot}).
     */
    @Override
    int batch(VectorWeight w, float[] x, int n, int j0, int j1, float[] out, float[] sf) {
        if (n > DIRECT_ROWS || !direct()) {
            return j0;
        }
        inPlace(w, x, n, j0, j1, out, sf);
        return j1;
    }

    /** Rows {@code [j0, j1)} against {@code n} activation rows, weights read in place (decode's kernels). */
    private static void inPlace(VectorWeight w, float[] x, int n, int j0, int j1, float[] out, float[] sf) {
        MemorySegment d = w.data();
        MemorySegment sc = w.scales();
        int k = w.cols();
        int outCols = w.rows();
        int nb = blocksPerRow(k);
        int kb = k / BLOCK;
        // the unit's rows as four sequential streams (RowDot.spread)
        int q = spread(j0, j1);
        for (int j = j0; j < j0 + q; j++) {
            // the four rows' scales converted by vectors into (L1-resident) scratch, so that the block loop
            // broadcasts each from memory instead of converting it there
            for (int c = 0; c < 4; c++) {
                scales(sc, (long) (j + c * q) * nb, sf, c * nb, nb);
            }
            int i = 0;
            for (; i + 2 <= n; i += 2) {
                rows4x2(d, (long) j * k, (long) q * k, k, sf, nb, x, i * k, (i + 1) * k, kb, out, i * outCols + j,
                        (i + 1) * outCols + j, q);
            }
            if (i < n) {
                rows4(d, (long) j * k, (long) q * k, k, sf, nb, x, i * k, kb, out, i * outCols + j, q);
            }
        }
        for (int j = j0 + 4 * q; j < j1; j++) {
            scales(sc, (long) j * nb, sf, 0, nb);
            for (int i = 0; i < n; i++) {
                out[i * outCols + j] = row1(d, (long) j * k, sf, x, i * k, k, kb);
            }
        }
    }

    /**
     * {@code count} float16 scales from scale index {@code first} into {@code dst[at ..]}, exactly. The scales are
     * finite (validated at load), so the conversion is the magnitude shifted into float position times 2^112 (exact for
     * normals and subnormals) with the sign put back: five vector ops per {@code L} scales. Written out here rather
     * than calling {@link DenseWeights}: a vector passed to or returned from a helper that C2 does not inline is boxed.
     */
    private static void scales(MemorySegment sc, long first, float[] dst, int at, int count) {
        int c = 0;
        for (; c + L <= count; c += L) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(S, sc, 2 * (first + c), LE)
                    .convertShape(VectorOperators.S2I, I, 0);
            h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats().intoArray(dst, at + c);
        }
        for (; c < count; c++) {
            dst[at + c] = scale(sc, 2 * (first + c));
        }
    }

    /** The scalar sum over the partial last block (from block {@code kb}) of a row; {@code s} is the row's scale. */
    private static float tail(MemorySegment d, long r, float s, float[] x, int xb, int k, int kb) {
        float sum = 0f;
        for (int c = kb * BLOCK; c < k; c++) {
            sum += x[xb + c] * (d.get(I8, r + c) * s);
        }
        return sum;
    }

    private static float row1(MemorySegment d, long r, float[] sf, float[] x, int xb, int k, int kb) {
        // two blocks per iteration into two accumulators: the loop-carried chain is one FMA per 64 weights, not 32
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        int pairs = kb / 2;
        for (int q = 0; q < pairs; q++) {
            int c = q * 2 * BLOCK;
            long cb = r + (long) q * 2 * BLOCK; // long arithmetic from the loop variable: C2 hoists the bounds checks
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb + c));
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + BLOCK, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb + c + BLOCK));
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + L, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + c + L), p0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + BLOCK + L, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + c + BLOCK + L), p1);
            if (L == 8) {
                p0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + 16, LE).convertShape(VectorOperators.B2F, F, 0))
                        .fma(FloatVector.fromArray(F, x, xb + c + 16), p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + BLOCK + 16, LE).convertShape(VectorOperators.B2F, F, 0))
                        .fma(FloatVector.fromArray(F, x, xb + c + BLOCK + 16), p1);
                p0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + 24, LE).convertShape(VectorOperators.B2F, F, 0))
                        .fma(FloatVector.fromArray(F, x, xb + c + 24), p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + BLOCK + 24, LE).convertShape(VectorOperators.B2F, F, 0))
                        .fma(FloatVector.fromArray(F, x, xb + c + BLOCK + 24), p1);
            }
            a0 = p0.fma(FloatVector.broadcast(F, sf[2 * q]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, sf[2 * q + 1]), a1);
        }
        if (kb % 2 != 0) {
            int b = kb - 1;
            int c = b * BLOCK;
            long cb = r + (long) b * BLOCK;
            FloatVector p = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb + c));
            p = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + L, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + c + L), p);
            if (L == 8) {
                p = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + 16, LE).convertShape(VectorOperators.B2F, F, 0))
                        .fma(FloatVector.fromArray(F, x, xb + c + 16), p);
                p = ((FloatVector) ByteVector.fromMemorySegment(B, d, cb + 24, LE).convertShape(VectorOperators.B2F, F, 0))
                        .fma(FloatVector.fromArray(F, x, xb + c + 24), p);
            }
            a0 = p.fma(FloatVector.broadcast(F, sf[b]), a0);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        return kb * BLOCK == k ? sum : sum + tail(d, r, sf[kb], x, xb, k, kb);
    }

    /**
     * Four rows of {@code k} bytes from data offset {@code r0} ({@code rs} bytes apart), their scales in {@code sf}
     * ({@code nb} apart), against the activations from {@code x[xb]}, into {@code out[o + c * os]}. The loop runs over block indices so that every offset is linear in the loop
     * variable (C2 then hoists all bounds checks out of the loop).
     */
    private static void rows4(MemorySegment d, long r0, long rs, int k, float[] sf, int nb, float[] x, int xb, int kb,
            float[] out, int o, int os) {
        long r1 = r0 + rs;
        long r2 = r1 + rs;
        long r3 = r2 + rs;
        int s1 = nb;
        int s2 = 2 * nb;
        int s3 = 3 * nb;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int b = 0; b < kb; b++) {
            int c = b * BLOCK;
            long cb = (long) b * BLOCK; // long arithmetic from the loop variable: what C2's long range checks recognise
            FloatVector xv = FloatVector.fromArray(F, x, xb + c);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r0 + cb, LE).convertShape(VectorOperators.B2F, F, 0)).mul(xv);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r1 + cb, LE).convertShape(VectorOperators.B2F, F, 0)).mul(xv);
            FloatVector p2 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r2 + cb, LE).convertShape(VectorOperators.B2F, F, 0)).mul(xv);
            FloatVector p3 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r3 + cb, LE).convertShape(VectorOperators.B2F, F, 0)).mul(xv);
            // the block's other vectors written out (L is a constant: the L == 8 part folds away on 512-bit shapes);
            // an inner loop here would keep C2 from removing the segment bounds checks of this one
            xv = FloatVector.fromArray(F, x, xb + c + L);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r0 + cb + L, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r1 + cb + L, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p1);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r2 + cb + L, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p2);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r3 + cb + L, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p3);
            if (L == 8) {
                xv = FloatVector.fromArray(F, x, xb + c + 16);
                p0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r0 + cb + 16, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r1 + cb + 16, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p1);
                p2 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r2 + cb + 16, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p2);
                p3 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r3 + cb + 16, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p3);
                xv = FloatVector.fromArray(F, x, xb + c + 24);
                p0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r0 + cb + 24, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p0);
                p1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r1 + cb + 24, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p1);
                p2 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r2 + cb + 24, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p2);
                p3 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r3 + cb + 24, LE).convertShape(VectorOperators.B2F, F, 0)).fma(xv, p3);
            }
            a0 = p0.fma(FloatVector.broadcast(F, sf[b]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, sf[s1 + b]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, sf[s2 + b]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, sf[s3 + b]), a3);
        }
        float t0 = a0.reduceLanes(VectorOperators.ADD);
        float t1 = a1.reduceLanes(VectorOperators.ADD);
        float t2 = a2.reduceLanes(VectorOperators.ADD);
        float t3 = a3.reduceLanes(VectorOperators.ADD);
        if (kb * BLOCK != k) {
            t0 += tail(d, r0, sf[kb], x, xb, k, kb);
            t1 += tail(d, r1, sf[s1 + kb], x, xb, k, kb);
            t2 += tail(d, r2, sf[s2 + kb], x, xb, k, kb);
            t3 += tail(d, r3, sf[s3 + kb], x, xb, k, kb);
        }
        out[o] = t0;
        out[o + os] = t1;
        out[o + 2 * os] = t2;
        out[o + 3 * os] = t3;
    }

    /**
     * {@link #rows4} for two activation rows at once (from {@code x[xa0]} and {@code x[xb0]}, into {@code out[oa + c * os]}
     * and {@code out[ob + c * os]}): each widened weight vector feeds both. Every output is computed with exactly the
     * operations, in the order, that {@link #rows4} uses for it, so it has the same bits. Per 32 weights of a row: 2 widens,
     * 2 converts, 4 FMAs and 2 scale FMAs for the two rows, where two decodes take 14 ops.
     */
    private static void rows4x2(MemorySegment d, long r0, long rs, int k, float[] sf, int nb, float[] x, int xa0, int xb0,
            int kb, float[] out, int oa, int ob, int os) {
        long r1 = r0 + rs;
        long r2 = r1 + rs;
        long r3 = r2 + rs;
        int m1 = nb;
        int m2 = 2 * nb;
        int m3 = 3 * nb;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector e0 = a0;
        FloatVector e1 = a0;
        FloatVector e2 = a0;
        FloatVector e3 = a0;
        for (int b = 0; b < kb; b++) {
            int c = b * BLOCK;
            long cb = (long) b * BLOCK;
            FloatVector xa;
            FloatVector xb;
            FloatVector w0;
            FloatVector w1;
            FloatVector w2;
            FloatVector w3;
            xa = FloatVector.fromArray(F, x, xa0 + c);
            xb = FloatVector.fromArray(F, x, xb0 + c);
            w0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r0 + cb, LE).convertShape(VectorOperators.B2F, F, 0));
            w1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r1 + cb, LE).convertShape(VectorOperators.B2F, F, 0));
            w2 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r2 + cb, LE).convertShape(VectorOperators.B2F, F, 0));
            w3 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r3 + cb, LE).convertShape(VectorOperators.B2F, F, 0));
            FloatVector p0 = w0.mul(xa);
            FloatVector p1 = w1.mul(xa);
            FloatVector p2 = w2.mul(xa);
            FloatVector p3 = w3.mul(xa);
            FloatVector q0 = w0.mul(xb);
            FloatVector q1 = w1.mul(xb);
            FloatVector q2 = w2.mul(xb);
            FloatVector q3 = w3.mul(xb);
            xa = FloatVector.fromArray(F, x, xa0 + c + L);
            xb = FloatVector.fromArray(F, x, xb0 + c + L);
            w0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r0 + cb + L, LE).convertShape(VectorOperators.B2F, F, 0));
            w1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r1 + cb + L, LE).convertShape(VectorOperators.B2F, F, 0));
            w2 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r2 + cb + L, LE).convertShape(VectorOperators.B2F, F, 0));
            w3 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r3 + cb + L, LE).convertShape(VectorOperators.B2F, F, 0));
            p0 = w0.fma(xa, p0);
            p1 = w1.fma(xa, p1);
            p2 = w2.fma(xa, p2);
            p3 = w3.fma(xa, p3);
            q0 = w0.fma(xb, q0);
            q1 = w1.fma(xb, q1);
            q2 = w2.fma(xb, q2);
            q3 = w3.fma(xb, q3);
            if (L == 8) {
                xa = FloatVector.fromArray(F, x, xa0 + c + 16);
                xb = FloatVector.fromArray(F, x, xb0 + c + 16);
                w0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r0 + cb + 16, LE).convertShape(VectorOperators.B2F, F, 0));
                w1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r1 + cb + 16, LE).convertShape(VectorOperators.B2F, F, 0));
                w2 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r2 + cb + 16, LE).convertShape(VectorOperators.B2F, F, 0));
                w3 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r3 + cb + 16, LE).convertShape(VectorOperators.B2F, F, 0));
                p0 = w0.fma(xa, p0);
                p1 = w1.fma(xa, p1);
                p2 = w2.fma(xa, p2);
                p3 = w3.fma(xa, p3);
                q0 = w0.fma(xb, q0);
                q1 = w1.fma(xb, q1);
                q2 = w2.fma(xb, q2);
                q3 = w3.fma(xb, q3);
                xa = FloatVector.fromArray(F, x, xa0 + c + 24);
                xb = FloatVector.fromArray(F, x, xb0 + c + 24);
                w0 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r0 + cb + 24, LE).convertShape(VectorOperators.B2F, F, 0));
                w1 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r1 + cb + 24, LE).convertShape(VectorOperators.B2F, F, 0));
                w2 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r2 + cb + 24, LE).convertShape(VectorOperators.B2F, F, 0));
                w3 = ((FloatVector) ByteVector.fromMemorySegment(B, d, r3 + cb + 24, LE).convertShape(VectorOperators.B2F, F, 0));
                p0 = w0.fma(xa, p0);
                p1 = w1.fma(xa, p1);
                p2 = w2.fma(xa, p2);
                p3 = w3.fma(xa, p3);
                q0 = w0.fma(xb, q0);
                q1 = w1.fma(xb, q1);
                q2 = w2.fma(xb, q2);
                q3 = w3.fma(xb, q3);
            }
            FloatVector s0 = FloatVector.broadcast(F, sf[b]);
            FloatVector s1 = FloatVector.broadcast(F, sf[m1 + b]);
            FloatVector s2 = FloatVector.broadcast(F, sf[m2 + b]);
            FloatVector s3 = FloatVector.broadcast(F, sf[m3 + b]);
            a0 = p0.fma(s0, a0);
            a1 = p1.fma(s1, a1);
            a2 = p2.fma(s2, a2);
            a3 = p3.fma(s3, a3);
            e0 = q0.fma(s0, e0);
            e1 = q1.fma(s1, e1);
            e2 = q2.fma(s2, e2);
            e3 = q3.fma(s3, e3);
        }
        // written out, not looped over arrays: vectors stored in an array would be boxed
        float ta0 = a0.reduceLanes(VectorOperators.ADD);
        float ta1 = a1.reduceLanes(VectorOperators.ADD);
        float ta2 = a2.reduceLanes(VectorOperators.ADD);
        float ta3 = a3.reduceLanes(VectorOperators.ADD);
        float tb0 = e0.reduceLanes(VectorOperators.ADD);
        float tb1 = e1.reduceLanes(VectorOperators.ADD);
        float tb2 = e2.reduceLanes(VectorOperators.ADD);
        float tb3 = e3.reduceLanes(VectorOperators.ADD);
        if (kb * BLOCK != k) {
            ta0 += tail(d, r0, sf[kb], x, xa0, k, kb);
            ta1 += tail(d, r1, sf[m1 + kb], x, xa0, k, kb);
            ta2 += tail(d, r2, sf[m2 + kb], x, xa0, k, kb);
            ta3 += tail(d, r3, sf[m3 + kb], x, xa0, k, kb);
            tb0 += tail(d, r0, sf[kb], x, xb0, k, kb);
            tb1 += tail(d, r1, sf[m1 + kb], x, xb0, k, kb);
            tb2 += tail(d, r2, sf[m2 + kb], x, xb0, k, kb);
            tb3 += tail(d, r3, sf[m3 + kb], x, xb0, k, kb);
        }
        out[oa] = ta0;
        out[oa + os] = ta1;
        out[oa + 2 * os] = ta2;
        out[oa + 3 * os] = ta3;
        out[ob] = tb0;
        out[ob + os] = tb1;
        out[ob + 2 * os] = tb2;
        out[ob + 3 * os] = tb3;
    }
}
