package dev.rg.core.generate;

import dev.rg.core.model.Finite;
import dev.rg.core.model.NonFiniteException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Chooses a token from one row of logits. Preallocates its buffers for the vocabulary once, so sampling
 * allocates nothing per token; the set of tokens seen (for the repetition penalty) is a fixed-size bit set.
 *
 * <p>Both ways in take the same steps: the candidates are the logits in descending order (lowest id first on
 * ties), cut to top-k; their probabilities are computed from those logits alone; top-p and min-p cut further; one
 * random draw picks. {@link #sample} finds the candidates by sorting the whole row on the host; {@link #sampleTop}
 * takes them from {@code Kernels.topK} (same order), so with top-k set only k values cross from the backend and the
 * token is the same for the same seed. That shortcut needs the k largest raw logits to be the k candidates, which
 * the repetition penalty breaks (it lowers or raises the logits of seen tokens, which can move them in or out
 * of the top k): with a penalty, {@link #deviceTopK} is 0 and callers download the row.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private final BitSet seen;
    private final float[] scratch;
    private final long[] order;
    /** Candidate ids and logits, descending; then their (unnormalised) probabilities in {@link #probs}. */
    private final int[] candIds;
    private final float[] candLogits;
    private final float[] probs;

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
        int maxCandidates = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
        this.candIds = new int[maxCandidates];
        this.candLogits = new float[maxCandidates];
        this.probs = new float[maxCandidates];
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Whether this sampler's token is always the row's largest logit, lowest id on ties (temperature 0, no repetition
     * penalty): what {@code Kernels.argmax} gives, so {@link DeviceArgmax} can take it from the backend.
     */
    public boolean argmaxOnly() {
        return params.temperature() == 0 && params.repetitionPenalty() == 1f;
    }

    /**
     * The k to ask {@code Kernels.topK} for when this sampler can pick from the k largest logits alone (temperature
     * &gt; 0, top-k set, no repetition penalty), else 0 (greedy, no top-k, or a penalty: use the whole row).
     */
    public int deviceTopK() {
        return params.temperature() > 0 && params.topK() > 0 && params.repetitionPenalty() == 1f ? candIds.length : 0;
    }

    /** Picks the next token from {@code logits[offset .. offset+vocab)}. */
    public int sample(float[] logits, int offset) {
        int v = scratch.length;
        float[] x = scratch;
        System.arraycopy(logits, offset, x, 0, v);
        int bad = Finite.firstNonFinite(x, 0, v);
        if (bad >= 0) {
            throw nonFinite(x[bad], bad);
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
        for (int i = 0; i < v; i++) {
            // descending logits, lowest index first on ties: the order Kernels.topK returns
            order[i] = ((long) ~sortable(x[i]) << 32) | i;
        }
        Arrays.sort(order);
        int n = candIds.length;
        for (int i = 0; i < n; i++) {
            int id = (int) order[i];
            candIds[i] = id;
            candLogits[i] = x[id];
        }
        return pick(n);
    }

    /**
     * Picks the next token from candidates that {@code Kernels.topK} returned for {@link #deviceTopK()} (or a larger
     * k): {@code ids/values[offset ..]}, descending, lowest id first on ties. Gives the token {@link #sample} gives
     * for the full row.
     *
     * @throws IllegalStateException if this sampler cannot sample from the top k alone ({@link #deviceTopK} is 0)
     */
    public int sampleTop(int[] ids, float[] values, int offset) {
        int n = deviceTopK();
        if (n == 0) {
            throw new IllegalStateException("sampling " + params + " needs the whole logit row");
        }
        for (int i = 0; i < n; i++) {
            float f = values[offset + i];
            if (!Float.isFinite(f)) {
                throw nonFinite(f, ids[offset + i]);
            }
        }
        System.arraycopy(ids, offset, candIds, 0, n);
        System.arraycopy(values, offset, candLogits, 0, n);
        return pick(n);
    }

    /** Temperature, top-p, min-p and the draw over the first {@code n} candidates. */
    private int pick(int n) {
        float t = params.temperature();
        float inv = 1f / t;
        float rawMax = candLogits[0];
        float rawMin = candLogits[n - 1];
        if (Float.isFinite(rawMax * inv) && Float.isFinite(rawMin * inv)) {
            float max = rawMax * inv;
            for (int i = 0; i < n; i++) {
                probs[i] = (float) Math.exp(candLogits[i] * inv - max);
            }
        } else {
            // x / T overflows (T = 1e-45 made 1 / T infinite, and NaN everywhere): (x - max) / T is <= 0 for every
            // value, so nothing overflows; the worst is -Inf, whose probability is exactly 0 (greedy in effect)
            for (int i = 0; i < n; i++) {
                probs[i] = (float) Math.exp((candLogits[i] - rawMax) / t);
            }
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += probs[i];
        }
        if (params.topP() < 1f) {
            double acc = 0;
            int keep = 0;
            while (keep < n) {
                acc += probs[keep];
                keep++;
                if (acc >= params.topP() * total) {
                    break;
                }
            }
            n = keep;
        }
        if (params.minP() > 0f) {
            float top = probs[0];
            int keep = 1;
            while (keep < n && probs[keep] >= params.minP() * top) {
                keep++;
            }
            n = keep;
        }
        double kept = 0;
        for (int i = 0; i < n; i++) {
            kept += probs[i];
        }
        double r = random.nextDouble() * kept;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += probs[i];
            if (acc >= r) {
                return candIds[i];
            }
        }
        return candIds[n - 1]; // rounding left r just above the sum
    }

    /** An int that orders like {@link Float#compare} on non-NaN floats (so -0 sorts below +0, as in Kernels.topK). */
    private static int sortable(float f) {
        int bits = Float.floatToRawIntBits(f);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    private static NonFiniteException nonFinite(float value, int token) {
        return new NonFiniteException("the model computed " + Finite.describe(value) + " logits (token " + token
                + "); the weights or config.json are broken (`rg info --verify` scans the weights) or the computation overflowed");
    }

    private static float clamp(float f) {
        return Math.max(-Float.MAX_VALUE, Math.min(Float.MAX_VALUE, f));
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
