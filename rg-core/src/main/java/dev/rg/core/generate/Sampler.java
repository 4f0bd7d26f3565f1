package dev.rg.core.generate;

import dev.rg.core.model.Finite;
import dev.rg.core.model.NonFiniteException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Chooses a token from one row of logits. Preallocates its buffers for the vocabulary once, so sampling
 * allocates nothing per token; the set of tokens seen (for the repetition penalty) is a fixed-size bit set.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private final BitSet seen;
    private final float[] scratch;
    private final long[] order;

    /**
     * @param params how to sample
     * @param seen   the tokens of the context (read for the repetition penalty; the caller keeps it current)
     */
    public Sampler(SamplingParams params, BitSet seen, int vocab) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
        this.seen = seen;
        this.scratch = new float[vocab];
        this.order = new long[vocab];
    }

    public SamplingParams params() {
        return params;
    }

    /** Picks the next token from {@code logits[offset .. offset+vocab)}. */
    public int sample(float[] logits, int offset) {
        int v = scratch.length;
        float[] x = scratch;
        System.arraycopy(logits, offset, x, 0, v);
        int bad = Finite.firstNonFinite(x, 0, v);
        if (bad >= 0) {
            throw new NonFiniteException("the model computed " + Finite.describe(x[bad]) + " logits (token " + bad
                    + "); the weights or config.json are broken (`rg info --verify` scans the weights) or the computation overflowed");
        }
        if (params.repetitionPenalty() != 1f) {
            float p = params.repetitionPenalty();
            for (int id = seen.nextSetBit(0); id >= 0; id = seen.nextSetBit(id + 1)) {
                // clamped: a tiny penalty must not turn a logit into an infinity (and then into NaN below)
                x[id] = clamp(x[id] > 0 ? x[id] / p : x[id] * p);
            }
        }
        if (params.temperature() == 0) {
            return argmax(x);
        }
        float t = params.temperature();
        float inv = 1f / t;
        float rawMax = Float.NEGATIVE_INFINITY;
        float rawMin = Float.POSITIVE_INFINITY;
        for (int i = 0; i < v; i++) {
            rawMax = Math.max(rawMax, x[i]);
            rawMin = Math.min(rawMin, x[i]);
        }
        if (Float.isFinite(rawMax * inv) && Float.isFinite(rawMin * inv)) {
            float max = rawMax * inv;
            for (int i = 0; i < v; i++) {
                x[i] = (float) Math.exp(x[i] * inv - max);
            }
        } else {
            // x / T overflows (T = 1e-45 made 1 / T infinite, and NaN everywhere): (x - max) / T is <= 0 for every
            // value, so nothing overflows; the worst is -Inf, whose probability is exactly 0 (greedy in effect)
            for (int i = 0; i < v; i++) {
                x[i] = (float) Math.exp((x[i] - rawMax) / t);
            }
        }
        int n = candidates(x, v);
        double kept = 0;
        for (int i = 0; i < n; i++) {
            kept += x[index(order[i])];
        }
        double r = random.nextDouble() * kept;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            int id = index(order[i]);
            acc += x[id];
            if (acc >= r) {
                return id;
            }
        }
        return index(order[n - 1]); // rounding left r just above the sum
    }

    /** Sorts by probability and applies top-k, top-p and min-p; returns how many leading entries of {@link #order} remain. */
    private int candidates(float[] p, int v) {
        for (int i = 0; i < v; i++) {
            // probabilities are >= 0, so their float bits sort like the values; invert for descending order,
            // and keep the index in the low bits so equal probabilities keep the lowest index first
            order[i] = ((long) (Integer.MAX_VALUE - Float.floatToRawIntBits(p[i])) << 32) | i;
        }
        Arrays.sort(order);
        int n = v;
        if (params.topK() > 0) {
            n = Math.min(n, params.topK());
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += p[index(order[i])];
        }
        if (params.topP() < 1f) {
            double acc = 0;
            int keep = 0;
            while (keep < n) {
                acc += p[index(order[keep])];
                keep++;
                if (acc >= params.topP() * total) {
                    break;
                }
            }
            n = keep;
        }
        if (params.minP() > 0f) {
            float top = p[index(order[0])];
            int keep = 1;
            while (keep < n && p[index(order[keep])] >= params.minP() * top) {
                keep++;
            }
            n = keep;
        }
        return n;
    }

    private static float clamp(float f) {
        return Math.max(-Float.MAX_VALUE, Math.min(Float.MAX_VALUE, f));
    }

    private static int index(long packed) {
        return (int) packed;
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
