package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.I;
import static dev.rg.backend.vector.Simd.L;
import static dev.rg.backend.vector.Simd.LE;
import static dev.rg.backend.vector.Simd.S;

import dev.rg.api.backend.RgLruWeights;
import dev.rg.api.backend.SeqBatch;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The RG-LRU, parallel over the diagonal gate blocks (one unit = the {@code bw} channels of one block, whose
 * gates depend only on the same block's inputs), and within a block over groups of channels when there are fewer
 * than about two blocks per thread (2B has 10 blocks: a 16-core host gets 40 units).
 *
 * <p>A unit first computes both gates of its block for every row as small vector-matrix products ({@code x @ W[h]},
 * W is {@code [in, out]}): vectorised over output channels, four rows at a time so that every gate-weight
 * vector, read in place from its segment and widened once, feeds four rows. Then it runs the scan over time
 * per sequence, vectorised over the block's channels, with exp/sqrt as lane-wise operators and the reference's
 * order of float operations (softplus(Λ) arrives computed at load).
 *
 * <p>The gate weights are widened in the loops themselves, not by a {@link DenseWeights} helper returning a vector:
 * whether C2 inlines such a helper depends on the profile (with several dense formats in use it may compile the
 * helper on its own first and then refuse to inline it), and a vector returned by a helper that is not inlined is
 * boxed: an allocation per weight vector. The format tests are loop-invariant (C2 unswitches them).
 */
final class RgLru implements WorkerPool.Task {
    private final WorkerPool pool;
    private final long minChunkBytes;
    private final float[][] gx;
    private final float[][] ga;
    private float[] bIn = new float[0];
    private float[] bRec = new float[0];
    /** softplus(Λ) as float32 (the weight holds it already, computed at load; here it is only widened). */
    private float[] decay = new float[0];

    // the current call
    private float[] x;
    private float[] out;
    private float[] state;
    private SeqBatch seq;
    private VectorWeight wIn;
    private VectorWeight wRec;
    private int width;
    private int bw;
    /** Channel groups per block and channels (whole vectors) per group: blocks are split when there are few of them. */
    private int parts;
    private int partChannels;

    RgLru(WorkerPool pool, long minChunkBytes) {
        this.pool = pool;
        this.minChunkBytes = minChunkBytes;
        this.gx = new float[pool.threads()][0];
        this.ga = new float[pool.threads()][0];
    }

    void run(float[] xs, SeqBatch sq, RgLruWeights w, VectorWeight inW, VectorWeight inB, VectorWeight recW,
            VectorWeight recB, VectorWeight softplusLambda, float[] st, float[] o) {
        int r = w.width();
        if (bIn.length < r) {
            bIn = new float[r];
            bRec = new float[r];
            decay = new float[r];
        }
        DenseWeights.toFloats(inB, bIn);
        DenseWeights.toFloats(recB, bRec);
        DenseWeights.toFloats(softplusLambda, decay);
        int need = sq.rows() * w.blockWidth();
        for (int t = 0; t < gx.length; t++) {
            if (gx[t].length < need) {
                gx[t] = new float[need];
                ga[t] = new float[need];
            }
        }
        x = xs;
        out = o;
        state = st;
        seq = sq;
        wIn = inW;
        wRec = recW;
        width = r;
        bw = w.blockWidth();
        int blocks = w.blocks();
        try {
            long work = (inW.byteSize() + recW.byteSize()) * sq.rows();
            if (work < minChunkBytes) {
                parts = 1;
                partChannels = bw;
                for (int b = 0; b < blocks; b++) {
                    run(b, 0);
                }
            } else {
                // enough units for every thread (about two each): a block's channels are independent too (each gate
                // column reads the whole block input, each scan lane its own channel), so few blocks are split
                int vectors = Math.max(1, vectorChannels() / L);
                parts = Math.min(vectors, Math.max(1, (2 * pool.threads() + blocks - 1) / blocks));
                partChannels = (vectors + parts - 1) / parts * L;
                parts = (vectorChannels() + partChannels - 1) / partChannels;
                parts = Math.max(1, parts);
                pool.run(this, blocks * parts);
            }
        } finally {
            x = null;
            out = null;
            state = null;
            seq = null;
        }
    }

    /** Unit {@code block * parts + part}: channels {@code [part * partChannels, ...)} of the block (the last part has the tail). */
    @Override
    public void run(int unit, int worker) {
        int block = unit / parts;
        int part = unit % parts;
        int n = seq.rows();
        float[] gateX = gx[worker];
        float[] gateA = ga[worker];
        int base = block * bw;
        boolean lastPart = part == parts - 1;
        int ja = part * partChannels;
        int jb = lastPart ? vectorChannels() : Math.min(vectorChannels(), ja + partChannels);
        int row = 0;
        for (; row + 4 <= n; row += 4) {
            gates4(block, row, ja, jb, gateX, gateA);
        }
        for (; row < n; row++) {
            gates1(block, row, ja, jb, gateX, gateA);
        }
        if (lastPart) {
            gateTails(block, gateX, gateA, n);
        }
        scan(base, ja, lastPart ? bw : jb, gateX, gateA);
    }

    /** Channels of a block covered by whole vectors. */
    private int vectorChannels() {
        return bw / L * L;
    }

    private void gates1(int block, int row, int ja, int jb, float[] gateX, float[] gateA) {
        MemorySegment si = wIn.data();
        MemorySegment sr = wRec.data();
        int ci = wIn.denseCode();
        int cr = wRec.denseCode();
        int base = block * bw;
        int xb = row * width + base;
        for (int j = ja; j < jb; j += L) {
            FloatVector ax = FloatVector.fromArray(F, bIn, base + j);
            FloatVector aa = FloatVector.fromArray(F, bRec, base + j);
            long wi = (long) base * bw + j;
            for (int i = 0; i < bw; i++, wi += bw) {
                FloatVector xi = FloatVector.broadcast(F, x[xb + i]);
                FloatVector vi;
                if (ci == DenseWeights.F32) {
                    vi = FloatVector.fromMemorySegment(F, si, wi * 4, LE);
                } else {
                    IntVector h = (IntVector) ShortVector.fromMemorySegment(S, si, wi * 2, LE)
                            .convertShape(VectorOperators.S2I, I, 0);
                    if (ci == DenseWeights.BF16) {
                        vi = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    } else {
                        // DenseWeights.f16, written out
                        h = h.and(0xFFFF);
                        IntVector mag = h.and(0x7FFF);
                        IntVector sh = mag.lanewise(VectorOperators.LSHL, 13);
                        IntVector bits = sh.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                                .blend(sh.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00));
                        vi = bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
                    }
                }
                FloatVector vr;
                if (cr == DenseWeights.F32) {
                    vr = FloatVector.fromMemorySegment(F, sr, wi * 4, LE);
                } else {
                    IntVector h = (IntVector) ShortVector.fromMemorySegment(S, sr, wi * 2, LE)
                            .convertShape(VectorOperators.S2I, I, 0);
                    if (cr == DenseWeights.BF16) {
                        vr = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    } else {
                        // DenseWeights.f16, written out
                        h = h.and(0xFFFF);
                        IntVector mag = h.and(0x7FFF);
                        IntVector sh = mag.lanewise(VectorOperators.LSHL, 13);
                        IntVector bits = sh.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                                .blend(sh.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00));
                        vr = bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
                    }
                }
                ax = vi.fma(xi, ax);
                aa = vr.fma(xi, aa);
            }
            ax.intoArray(gateX, row * bw + j);
            aa.intoArray(gateA, row * bw + j);
        }
    }

    private void gates4(int block, int row, int ja, int jb, float[] gateX, float[] gateA) {
        MemorySegment si = wIn.data();
        MemorySegment sr = wRec.data();
        int ci = wIn.denseCode();
        int cr = wRec.denseCode();
        int base = block * bw;
        int x0 = row * width + base;
        int x1 = x0 + width;
        int x2 = x1 + width;
        int x3 = x2 + width;
        for (int j = ja; j < jb; j += L) {
            FloatVector bx = FloatVector.fromArray(F, bIn, base + j);
            FloatVector ba = FloatVector.fromArray(F, bRec, base + j);
            FloatVector ax0 = bx;
            FloatVector ax1 = bx;
            FloatVector ax2 = bx;
            FloatVector ax3 = bx;
            FloatVector aa0 = ba;
            FloatVector aa1 = ba;
            FloatVector aa2 = ba;
            FloatVector aa3 = ba;
            long wi = (long) base * bw + j;
            for (int i = 0; i < bw; i++, wi += bw) {
                FloatVector vi;
                if (ci == DenseWeights.F32) {
                    vi = FloatVector.fromMemorySegment(F, si, wi * 4, LE);
                } else {
                    IntVector h = (IntVector) ShortVector.fromMemorySegment(S, si, wi * 2, LE)
                            .convertShape(VectorOperators.S2I, I, 0);
                    if (ci == DenseWeights.BF16) {
                        vi = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    } else {
                        // DenseWeights.f16, written out
                        h = h.and(0xFFFF);
                        IntVector mag = h.and(0x7FFF);
                        IntVector sh = mag.lanewise(VectorOperators.LSHL, 13);
                        IntVector bits = sh.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                                .blend(sh.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00));
                        vi = bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
                    }
                }
                FloatVector vr;
                if (cr == DenseWeights.F32) {
                    vr = FloatVector.fromMemorySegment(F, sr, wi * 4, LE);
                } else {
                    IntVector h = (IntVector) ShortVector.fromMemorySegment(S, sr, wi * 2, LE)
                            .convertShape(VectorOperators.S2I, I, 0);
                    if (cr == DenseWeights.BF16) {
                        vr = h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    } else {
                        // DenseWeights.f16, written out
                        h = h.and(0xFFFF);
                        IntVector mag = h.and(0x7FFF);
                        IntVector sh = mag.lanewise(VectorOperators.LSHL, 13);
                        IntVector bits = sh.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                                .blend(sh.or(0x7F800000), mag.compare(VectorOperators.GE, 0x7C00));
                        vr = bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
                    }
                }
                FloatVector e0 = FloatVector.broadcast(F, x[x0 + i]);
                FloatVector e1 = FloatVector.broadcast(F, x[x1 + i]);
                FloatVector e2 = FloatVector.broadcast(F, x[x2 + i]);
                FloatVector e3 = FloatVector.broadcast(F, x[x3 + i]);
                ax0 = vi.fma(e0, ax0);
                aa0 = vr.fma(e0, aa0);
                ax1 = vi.fma(e1, ax1);
                aa1 = vr.fma(e1, aa1);
                ax2 = vi.fma(e2, ax2);
                aa2 = vr.fma(e2, aa2);
                ax3 = vi.fma(e3, ax3);
                aa3 = vr.fma(e3, aa3);
            }
            int g = row * bw + j;
            ax0.intoArray(gateX, g);
            aa0.intoArray(gateA, g);
            ax1.intoArray(gateX, g + bw);
            aa1.intoArray(gateA, g + bw);
            ax2.intoArray(gateX, g + 2 * bw);
            aa2.intoArray(gateA, g + 2 * bw);
            ax3.intoArray(gateX, g + 3 * bw);
            aa3.intoArray(gateA, g + 3 * bw);
        }
    }

    /** Channels of the block past the last whole vector, scalar. */
    private void gateTails(int block, float[] gateX, float[] gateA, int n) {
        int jv = vectorChannels();
        if (jv == bw) {
            return;
        }
        MemorySegment si = wIn.data();
        MemorySegment sr = wRec.data();
        int ci = wIn.denseCode();
        int cr = wRec.denseCode();
        int base = block * bw;
        for (int row = 0; row < n; row++) {
            int xb = row * width + base;
            for (int j = jv; j < bw; j++) {
                float ax = bIn[base + j];
                float aa = bRec[base + j];
                long wi = (long) base * bw + j;
                for (int i = 0; i < bw; i++, wi += bw) {
                    float xi = x[xb + i];
                    ax += xi * DenseWeights.get(si, ci, wi);
                    aa += xi * DenseWeights.get(sr, cr, wi);
                }
                gateX[row * bw + j] = ax;
                gateA[row * bw + j] = aa;
            }
        }
    }

    /**
     * The recurrence over time for channels {@code [base + ja, base + jb)} ({@code ja} a multiple of the vector length);
     * the gates hold pre-activation values.
     */
    private void scan(int base, int ja, int jb, float[] gateX, float[] gateA) {
        int len = seq.length();
        int jv = ja + (jb - ja) / L * L;
        for (int s = 0; s < seq.batch(); s++) {
            int hb = s * width + base;
            for (int t = 0; t < len; t++) {
                int row = s * len + t;
                boolean reset = seq.start(s) + t == 0;
                int xb = row * width + base;
                int g = row * bw;
                int j = ja;
                for (; j < jv; j += L) {
                    FloatVector gX = VectorMath.sigmoid(FloatVector.fromArray(F, gateX, g + j));
                    FloatVector gA = VectorMath.sigmoid(FloatVector.fromArray(F, gateA, g + j));
                    FloatVector logA = gA.mul(-8f).mul(FloatVector.fromArray(F, decay, base + j));
                    FloatVector xn = FloatVector.fromArray(F, x, xb + j).mul(gX);
                    FloatVector h;
                    if (reset) {
                        h = xn; // a = 0, multiplier 1
                    } else {
                        FloatVector a = logA.lanewise(VectorOperators.EXP);
                        FloatVector a2 = logA.mul(2f).lanewise(VectorOperators.EXP);
                        FloatVector mult = a2.neg().add(1f).lanewise(VectorOperators.SQRT);
                        h = a.mul(FloatVector.fromArray(F, state, hb + j)).add(xn.mul(mult));
                    }
                    h.intoArray(state, hb + j);
                    h.intoArray(out, xb + j);
                }
                for (; j < jb; j++) {
                    float gX = VectorMath.sigmoid(gateX[g + j]);
                    float gA = VectorMath.sigmoid(gateA[g + j]);
                    float logA = -8.0f * gA * decay[base + j];
                    float xn = x[xb + j] * gX;
                    float h;
                    if (reset) {
                        h = xn;
                    } else {
                        float a = (float) Math.exp(logA);
                        float a2 = (float) Math.exp(2.0f * logA);
                        float mult = (float) Math.sqrt(1.0f - a2);
                        h = a * state[hb + j] + xn * mult;
                    }
                    state[hb + j] = h;
                    out[xb + j] = h;
                }
            }
        }
    }
}
