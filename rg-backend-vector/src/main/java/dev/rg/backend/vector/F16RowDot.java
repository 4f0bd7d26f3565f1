package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * IEEE binary16 weights read in place. The exact f16 conversion takes a dozen integer ops per vector
 * ({@link DenseWeights#f16}); inlined eight times into a register tile it overflows C2's inlining budget (the
 * vectors then get boxed), so each group of four weight rows is first converted into this thread's scratch (one
 * small loop, L1-resident for the model's widths) and then multiplied like float32 rows. f16 checkpoints are
 * rare for this model; this path favours exactness and no allocation over the last bit of speed. The conversion is
 * paid once per weight for all the rows of a batch (weight rows outermost), and four rows at a time share each
 * converted weight vector ({@link FloatTiles#tile4x4}).
 */
final class F16RowDot extends RowDot {

    @Override
    int scratchSize(int k) {
        return 4 * k + Accumulators.FLOATS;
    }

    @Override
    void dequantizeRow(VectorWeight w, long row, float[] dst, int off) {
        int k = w.cols();
        DenseWeights.toFloats(w.data(), DenseWeights.F16, row * k, dst, off, k);
    }

    @Override
    void dot(VectorWeight w, float[] x, int n, int j0, int j1, float[] out, float[] wt, MemorySegment panel) {
        MemorySegment s = w.data();
        int k = w.cols();
        int outCols = w.rows();
        int kv = k / L * L;
        // four weight rows at a time, converted into scratch: decode takes them a quarter of the unit apart
        // (RowDot.spread), batches and prefill four adjacent rows
        int step = n == 1 ? spread(j0, j1) : 1;
        int groups = n == 1 ? step : (j1 - j0) / 4;
        for (int g = 0; g < groups; g++) {
            int j = n == 1 ? j0 + g : j0 + 4 * g;
            for (int c = 0; c < 4; c++) {
                DenseWeights.toFloats(s, DenseWeights.F16, (long) (j + c * step) * k, wt, c * k, k);
            }
            int i = 0;
            // batches and prefill: each converted weight vector feeds four rows from a register
            for (; i + 4 <= n; i += 4) {
                FloatTiles.tile4x4(wt, 0, k, x, i * k, k, k, out, i * outCols + j, outCols, true, wt, 4 * k);
            }
            if (i + 2 <= n) {
                FloatTiles.tile2x4(wt, 0, k, x, i * k, k, k, out, i * outCols + j, outCols, true, wt, 4 * k);
                i += 2;
            }
            for (; i < n; i++) {
                tile1x4(wt, k, x, i * k, kv, out, i * outCols + j, step);
            }
        }
        for (int j = j0 + 4 * groups; j < j1; j++) {
            DenseWeights.toFloats(s, DenseWeights.F16, (long) j * k, wt, 0, k);
            for (int i = 0; i < n; i++) {
                out[i * outCols + j] = dot1(wt, 0, x, i * k, k, kv);
            }
        }
    }

    private static float dot1(float[] wt, int wb, float[] x, int xb, int k, int kv) {
        FloatVector a = FloatVector.zero(F);
        for (int c = 0; c < kv; c += L) {
            a = FloatVector.fromArray(F, wt, wb + c).fma(FloatVector.fromArray(F, x, xb + c), a);
        }
        float sum = a.reduceLanes(VectorOperators.ADD);
        for (int c = kv; c < k; c++) {
            sum += wt[wb + c] * x[xb + c];
        }
        return sum;
    }

    private static float tail(float[] wt, int wb, float[] x, int xb, int k, int kv) {
        float sum = 0f;
        for (int c = kv; c < k; c++) {
            sum += wt[wb + c] * x[xb + c];
        }
        return sum;
    }

    /** One activation row against the four converted rows in {@code wt}, into {@code out[o + c * os]}. */
    private static void tile1x4(float[] wt, int k, float[] x, int xb, int kv, float[] out, int o, int os) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int c = 0; c < kv; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xb + c);
            a0 = FloatVector.fromArray(F, wt, c).fma(xv, a0);
            a1 = FloatVector.fromArray(F, wt, k + c).fma(xv, a1);
            a2 = FloatVector.fromArray(F, wt, 2 * k + c).fma(xv, a2);
            a3 = FloatVector.fromArray(F, wt, 3 * k + c).fma(xv, a3);
        }
        out[o] = a0.reduceLanes(VectorOperators.ADD) + tail(wt, 0, x, xb, k, kv);
        out[o + os] = a1.reduceLanes(VectorOperators.ADD) + tail(wt, k, x, xb, k, kv);
        out[o + 2 * os] = a2.reduceLanes(VectorOperators.ADD) + tail(wt, 2 * k, x, xb, k, kv);
        out[o + 3 * os] = a3.reduceLanes(VectorOperators.ADD) + tail(wt, 3 * k, x, xb, k, kv);
    }
}
