package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import dev.rg.api.backend.SeqBatch;
import jdk.incubator.vector.FloatVector;

/**
 * Causal depthwise conv1d over time with a carried state of the last K-1 inputs, vectorised over channels.
 * The taps ({@code [C, 1, K]}, channel-major) are transposed once per call into {@code [K][C]} scratch so
 * that tap k of consecutive channels is one vector load; for each output step the K source rows (from the
 * state for steps before this call, else from x) are resolved before the channel loop.
 *
 * <p>Channels are independent: a prefill's are split into groups of whole vectors over the workers (each unit runs
 * every step of its channels, with its own source-row scratch); a decode step's run on the caller. The state is
 * updated once every unit is done (units read it).
 */
final class Conv1d implements WorkerPool.Task {
    private final WorkerPool pool;
    private final long minChunkBytes;
    private float[] taps = new float[0];
    private float[] bias = new float[0];
    private float[] flat = new float[0];
    private final float[][][] srcArray;
    private final int[][] srcOffset;

    // the current call
    private float[] x;
    private float[] state;
    private float[] out;
    private SeqBatch seq;
    private int c;
    private int k;
    private int channelsPerUnit;

    Conv1d(WorkerPool pool, long minChunkBytes) {
        this.pool = pool;
        this.minChunkBytes = minChunkBytes;
        this.srcArray = new float[pool.threads()][0][];
        this.srcOffset = new int[pool.threads()][0];
    }

    void run(float[] xs, SeqBatch sq, VectorWeight kernel, VectorWeight biasW, float[] st, float[] o, int channels, int width) {
        int kc = width * channels;
        if (taps.length < kc) {
            taps = new float[kc];
            flat = new float[kc];
        }
        if (bias.length < channels) {
            bias = new float[channels];
        }
        for (int t = 0; t < srcArray.length; t++) {
            if (srcArray[t].length < width) {
                srcArray[t] = new float[width][];
                srcOffset[t] = new int[width];
            }
        }
        DenseWeights.toFloats(kernel, flat);
        for (int ch = 0; ch < channels; ch++) {
            for (int tap = 0; tap < width; tap++) {
                taps[tap * channels + ch] = flat[ch * width + tap];
            }
        }
        DenseWeights.toFloats(biasW, bias);
        x = xs;
        state = st;
        out = o;
        seq = sq;
        c = channels;
        k = width;
        // units of whole vectors of channels; bytes per vector of channels: every row read K times and written once
        int vectors = (channels + L - 1) / L;
        int perUnit = Parallel.itemsPerUnit(vectors, 4L * L * (width + 1) * sq.rows(), minChunkBytes, pool.threads());
        channelsPerUnit = perUnit * L;
        try {
            pool.run(this, (vectors + perUnit - 1) / perUnit);
            updateState();
        } finally {
            x = state = out = null;
            seq = null;
            for (float[][] a : srcArray) {
                java.util.Arrays.fill(a, null);
            }
        }
    }

    /** The state keeps the last K-1 inputs of each sequence, oldest first. */
    private void updateState() {
        int hist = k - 1;
        int len = seq.length();
        for (int s = 0; s < seq.batch(); s++) {
            int stateBase = s * hist * c;
            if (len >= hist) {
                System.arraycopy(x, (s * len + len - hist) * c, state, stateBase, hist * c);
            } else {
                System.arraycopy(state, stateBase + len * c, state, stateBase, (hist - len) * c);
                System.arraycopy(x, s * len * c, state, stateBase + (hist - len) * c, len * c);
            }
        }
    }

    @Override
    public void run(int unit, int worker) {
        int c0 = unit * channelsPerUnit;
        int c1 = Math.min(c, c0 + channelsPerUnit);
        float[][] arr = srcArray[worker];
        int[] off = srcOffset[worker];
        int hist = k - 1;
        int len = seq.length();
        for (int s = 0; s < seq.batch(); s++) {
            int stateBase = s * hist * c;
            for (int t = 0; t < len; t++) {
                for (int tap = 0; tap < k; tap++) {
                    int src = t + tap - hist; // time index within this call; negative = from the state
                    if (src >= 0) {
                        arr[tap] = x;
                        off[tap] = (s * len + src) * c;
                    } else {
                        arr[tap] = state;
                        off[tap] = stateBase + (hist + src) * c;
                    }
                }
                step(arr, off, out, (s * len + t) * c, c0, c1, c, k);
            }
        }
    }

    private void step(float[][] arr, int[] off, float[] out, int ob, int c0, int c1, int c, int k) {
        float[] tp = taps;
        int ch = c0;
        for (int bound = c1 - L; ch <= bound; ch += L) {
            FloatVector acc = FloatVector.fromArray(F, bias, ch);
            for (int tap = 0; tap < k; tap++) {
                acc = FloatVector.fromArray(F, tp, tap * c + ch).fma(FloatVector.fromArray(F, arr[tap], off[tap] + ch), acc);
            }
            acc.intoArray(out, ob + ch);
        }
        for (; ch < c1; ch++) {
            float acc = bias[ch];
            for (int tap = 0; tap < k; tap++) {
                acc += tp[tap * c + ch] * arr[tap][off[tap] + ch];
            }
            out[ob + ch] = acc;
        }
    }
}
