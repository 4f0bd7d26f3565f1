package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import dev.rg.api.backend.AttentionSpec;
import dev.rg.api.backend.SeqBatch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Local multi-query attention with DeepMind window semantics (the query at position t sees positions
 * max(0, t-W) .. t: this call's keys, or the ring caches, position p in slot p % W).
 *
 * <p>Parallel over (query row, kv head, group of query heads). A unit walks the keys once and scores every
 * query head of its group against each key while that key is in L1, then does the same for the values: the
 * key/value rows (W x headDim floats each, megabytes for the real model) are read once per unit, not once per
 * head. In decode (one row, one kv head) the heads are split into as many groups as there are threads.
 * The caches are updated by the caller after every unit is done (units read them).
 */
final class Attention implements WorkerPool.Task {
    private final WorkerPool pool;
    private final long minChunkBytes;
    private final float[][] scores;
    private final float[][] sums;

    // the current call
    private float[] q;
    private float[] k;
    private float[] v;
    private float[] kc;
    private float[] vc;
    private float[] out;
    private SeqBatch seq;
    private int heads;
    private int kvHeads;
    private int hd;
    private int window;
    private int kvCols;
    private int cacheCols;
    private int group;
    private int split;
    private int headsPerUnit;
    private float scale;

    Attention(WorkerPool pool, long minChunkBytes) {
        this.pool = pool;
        this.minChunkBytes = minChunkBytes;
        this.scores = new float[pool.threads()][0];
        this.sums = new float[pool.threads()][0];
    }

    void run(float[] qs, float[] ks, float[] vs, SeqBatch sq, AttentionSpec spec, float[] keyCache, float[] valueCache,
            float[] o) {
        int n = sq.rows();
        heads = spec.heads();
        kvHeads = spec.kvHeads();
        hd = spec.headDim();
        window = spec.window();
        kvCols = kvHeads * hd;
        cacheCols = spec.cacheCols();
        group = heads / kvHeads;
        int pairs = n * kvHeads;
        int threads = pool.threads();
        int parts = pairs >= threads ? 1 : Math.min(group, (threads + pairs - 1) / pairs);
        headsPerUnit = (group + parts - 1) / parts;
        split = (group + headsPerUnit - 1) / headsPerUnit;
        int need = headsPerUnit * (window + 1);
        for (int t = 0; t < scores.length; t++) {
            if (scores[t].length < need) {
                scores[t] = new float[need];
            }
            if (sums[t].length < headsPerUnit) {
                sums[t] = new float[headsPerUnit];
            }
        }
        q = qs;
        k = ks;
        v = vs;
        kc = keyCache;
        vc = valueCache;
        out = o;
        seq = sq;
        scale = (float) (1.0 / Math.sqrt(hd));
        int units = pairs * split;
        try {
            // bytes of keys and values touched, times the heads that use them
            long work = (long) n * heads * Math.min(window + 1, sq.length() + window) * hd * 8L;
            if (work < minChunkBytes) {
                for (int u = 0; u < units; u++) {
                    run(u, 0);
                }
            } else {
                pool.run(this, units);
            }
            updateCaches();
        } finally {
            q = k = v = kc = vc = out = null;
            seq = null;
        }
    }

    /** The caches keep the last W positions: position p in slot p % W. */
    private void updateCaches() {
        int len = seq.length();
        for (int s = 0; s < seq.batch(); s++) {
            int start = seq.start(s);
            for (int p = Math.max(start, start + len - window); p < start + len; p++) {
                int row = s * len + (p - start);
                int slot = s * cacheCols + (p % window) * kvCols;
                System.arraycopy(k, row * kvCols, kc, slot, kvCols);
                System.arraycopy(v, row * kvCols, vc, slot, kvCols);
            }
        }
    }

    @Override
    public void run(int unit, int worker) {
        int pair = unit / split;
        int part = unit % split;
        int row = pair / kvHeads;
        int g = pair % kvHeads;
        int h0 = g * group + part * headsPerUnit;
        int h1 = Math.min(h0 + headsPerUnit, (g + 1) * group);
        int len = seq.length();
        int s = row / len;
        int start = seq.start(s);
        int pos = start + row % len;
        int first = Math.max(0, pos - window);
        int nk = pos - first + 1;
        int stride = window + 1;
        float[] sc = scores[worker];
        float[] sm = sums[worker];
        int qRow = row * heads * hd;
        int callBase = s * len;
        int cacheBase = s * cacheCols + g * hd;
        // scores: every head of the unit against each key while the key is hot
        for (int p = first; p <= pos; p++) {
            float[] src;
            int kb;
            if (p >= start) {
                src = k;
                kb = (callBase + p - start) * kvCols + g * hd;
            } else {
                src = kc;
                kb = cacheBase + (p % window) * kvCols;
            }
            for (int h = h0; h < h1; h++) {
                sc[(h - h0) * stride + (p - first)] = dot(q, qRow + h * hd, src, kb, hd) * scale;
            }
        }
        for (int h = h0; h < h1; h++) {
            sm[h - h0] = softmaxNumerators(sc, (h - h0) * stride, nk);
            java.util.Arrays.fill(out, qRow + h * hd, qRow + (h + 1) * hd, 0f);
        }
        for (int p = first; p <= pos; p++) {
            float[] src;
            int vb;
            if (p >= start) {
                src = v;
                vb = (callBase + p - start) * kvCols + g * hd;
            } else {
                src = vc;
                vb = cacheBase + (p % window) * kvCols;
            }
            for (int h = h0; h < h1; h++) {
                axpy(sc[(h - h0) * stride + (p - first)], src, vb, out, qRow + h * hd, hd);
            }
        }
        for (int h = h0; h < h1; h++) {
            divide(out, qRow + h * hd, hd, sm[h - h0]);
        }
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(F);
            for (int bound = n - L; i <= bound; i += L) {
                acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += a[ao + i] * b[bo + i];
        }
        return sum;
    }

    /**
     * Replaces scores by exp(score - max) and returns their sum. Scalar on purpose, like {@link #divide}: C2 compiles
     * these small per-head helpers late or not at all on some compile orders, and Vector API code left to C1 runs its
     * per-lane fallback, which allocates (seen with -Xbatch: 1.9 KB per decode step, {@code DecodeAllocationTest}).
     * Their work is O(window) and O(head dim) per head, small next to the score and value passes ({@link #dot},
     * {@link #axpy}), which stay vectorised and are compiled reliably.
     */
    private static float softmaxNumerators(float[] s, int o, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, s[o + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(s[o + i] - max);
            s[o + i] = e;
            sum += e;
        }
        return sum;
    }

    private static void axpy(float a, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector av = FloatVector.broadcast(F, a);
        for (int bound = n - L; i <= bound; i += L) {
            FloatVector.fromArray(F, x, xo + i).fma(av, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            y[yo + i] += a * x[xo + i];
        }
    }

    private static void divide(float[] y, int yo, int n, float d) {
        for (int i = 0; i < n; i++) {
            y[yo + i] /= d;
        }
    }
}
