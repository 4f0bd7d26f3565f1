package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * argmax and top-k over rows of logits, with the reference's tie and NaN rules: argmax takes the lowest index
 * of the maximum under {@code >} (a NaN never wins, unless it is element 0, which then stays); top-k orders by
 * {@link Float#compare} descending, lowest index first on ties.
 */
final class Selection {
    private int[] heapIds = new int[0];
    private float[] heapValues = new float[0];

    static void argmax(float[] x, int rows, int cols, int[] dst) {
        for (int r = 0; r < rows; r++) {
            dst[r] = argmaxRow(x, r * cols, cols);
        }
    }

    private static int argmaxRow(float[] x, int b, int n) {
        float first = x[b];
        if (Float.isNaN(first)) {
            return 0; // nothing compares greater than NaN
        }
        // lane-wise running maximum under '>' (NaN lanes never replace), then the first index holding it
        float max = first;
        int c = 0;
        if (n >= L) {
            FloatVector m = FloatVector.broadcast(F, first);
            for (int bound = n - L; c <= bound; c += L) {
                FloatVector v = FloatVector.fromArray(F, x, b + c);
                m = m.blend(v, v.compare(VectorOperators.GT, m));
            }
            // no lane of m is NaN, so MAX agrees with '>' (up to the sign of zero, which '==' below ignores)
            max = Math.max(max, m.reduceLanes(VectorOperators.MAX));
        }
        for (; c < n; c++) {
            if (x[b + c] > max) {
                max = x[b + c];
            }
        }
        c = 0;
        if (n >= L) {
            for (int bound = n - L; c <= bound; c += L) {
                VectorMask<Float> eq = FloatVector.fromArray(F, x, b + c).compare(VectorOperators.EQ, max);
                if (eq.anyTrue()) {
                    return c + eq.firstTrue();
                }
            }
        }
        for (; c < n; c++) {
            if (x[b + c] == max) {
                return c;
            }
        }
        return 0;
    }

    /** The k best of each row, via a size-k min-heap (worst at the root) and a vector pre-filter against it. */
    void topK(float[] x, int rows, int cols, int k, int[] ids, float[] values) {
        if (heapIds.length < k) {
            heapIds = new int[k];
            heapValues = new float[k];
        }
        int[] hi = heapIds;
        float[] hv = heapValues;
        for (int r = 0; r < rows; r++) {
            int b = r * cols;
            for (int c = 0; c < k; c++) {
                hi[c] = c;
                hv[c] = x[b + c];
            }
            for (int i = k / 2 - 1; i >= 0; i--) {
                siftDown(hi, hv, i, k);
            }
            int c = k;
            if (cols - k >= L) {
                for (int bound = cols - L; c <= bound; c += L) {
                    FloatVector vec = FloatVector.fromArray(F, x, b + c);
                    // GE catches 0.0 vs -0.0 (distinct under Float.compare); NaN sorts above everything
                    VectorMask<Float> maybe = vec.compare(VectorOperators.GE, hv[0]).or(vec.test(VectorOperators.IS_NAN));
                    if (maybe.anyTrue()) {
                        for (int lane = maybe.firstTrue(); lane < L; lane++) {
                            offer(hi, hv, k, c + lane, x[b + c + lane]);
                        }
                    }
                }
            }
            for (; c < cols; c++) {
                offer(hi, hv, k, c, x[b + c]);
            }
            // pop the worst to the end: leaves the k best in descending order
            for (int end = k - 1; end > 0; end--) {
                swap(hi, hv, 0, end);
                siftDown(hi, hv, 0, end);
            }
            System.arraycopy(hi, 0, ids, r * k, k);
            System.arraycopy(hv, 0, values, r * k, k);
        }
    }

    /** Whether (va, ia) ranks before (vb, ib). */
    private static boolean better(float va, int ia, float vb, int ib) {
        int cmp = Float.compare(va, vb);
        return cmp > 0 || (cmp == 0 && ia < ib);
    }

    private static void offer(int[] hi, float[] hv, int k, int id, float value) {
        if (better(value, id, hv[0], hi[0])) {
            hi[0] = id;
            hv[0] = value;
            siftDown(hi, hv, 0, k);
        }
    }

    /** Min-heap on rank: the root is the worst kept element. */
    private static void siftDown(int[] hi, float[] hv, int i, int n) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= n) {
                return;
            }
            int worst = l;
            int r = l + 1;
            if (r < n && better(hv[worst], hi[worst], hv[r], hi[r])) {
                worst = r;
            }
            if (better(hv[i], hi[i], hv[worst], hi[worst])) {
                swap(hi, hv, i, worst);
                i = worst;
            } else {
                return;
            }
        }
    }

    private static void swap(int[] hi, float[] hv, int a, int b) {
        int ti = hi[a];
        hi[a] = hi[b];
        hi[b] = ti;
        float tv = hv[a];
        hv[a] = hv[b];
        hv[b] = tv;
    }
}
