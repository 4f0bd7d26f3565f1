package dev.rg.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.format.FormatLayout.ScaleType;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The measurement behind {@link Int8Format}'s block size and scale type (the table in its Javadoc is this
 * test's output), and a guard that the decision still holds.
 */
class Int8BlockChoiceTest {
    private static final int N = 1024;

    @Test
    void block32WithF16ScaleIsTheBestTradeOff() {
        Map<String, float[]> mats = new LinkedHashMap<>();
        mats.put("gauss", TestData.gaussian(N, N, 0.02, 11));
        mats.put("t3", TestData.heavyTailed(N, N, 0.02, 12));
        mats.put("row-scaled", TestData.rowScaled(N, N, 13));
        // several input vectors: with one, the matvec error of a few large rows is a noisy statistic
        SplittableRandom r = new SplittableRandom(14);
        float[][] xs = new float[8][N];
        for (float[] x : xs) {
            for (int i = 0; i < N; i++) {
                x[i] = (float) r.nextGaussian();
            }
        }
        int[] blocks = {32, 64};
        ScaleType[] scales = {ScaleType.F32, ScaleType.F16};
        double[][] err = new double[4][]; // per config: {W, matvec} per matrix
        StringBuilder table = new StringBuilder("block scale bytes/w | W and matvec RMS relative error per matrix "
                + mats.keySet() + "\n");
        int cfg = 0;
        for (int b : blocks) {
            for (ScaleType s : scales) {
                Int8Format f = new Int8Format(b, s);
                double bytes = (double) f.byteSize(Shape.matrix(N, N)) / ((long) N * N);
                err[cfg] = new double[2 * mats.size()];
                table.append(String.format(Locale.ROOT, "%4d %5s %7.4f  ", b, s, bytes));
                int k = 0;
                for (float[] w : mats.values()) {
                    float[] deq;
                    try (Arena arena = Arena.ofConfined()) {
                        HostWeight q = f.quantize("m", Shape.matrix(N, N), TestData.rows(w, N), arena);
                        deq = TestData.dequantize(q);
                    }
                    err[cfg][k] = TestData.relRms(deq, w);
                    err[cfg][k + 1] = matvecError(deq, w, xs);
                    table.append(String.format(Locale.ROOT, "| %.2e %.2e ", err[cfg][k], err[cfg][k + 1]));
                    k += 2;
                }
                table.append('\n');
                cfg++;
            }
        }
        System.out.print(table);
        // configs: 0 = 32/f32, 1 = 32/f16, 2 = 64/f32, 3 = 64/f16
        for (int k = 0; k < err[0].length; k++) {
            double tol = k % 2 == 0 ? 1.01 : 1.03; // the matvec error has sampling noise
            assertTrue(err[1][k] <= err[0][k] * tol, "an f16 scale must cost (almost) nothing\n" + table);
            assertTrue(err[1][k] < err[2][k], "32/f16 must beat 64/f32 at the same bytes\n" + table);
            assertTrue(err[1][k] < err[3][k] * 0.95, "block 32 must be clearly better than 64\n" + table);
        }
    }

    /** RMS relative error of W x over all the input vectors. */
    private static double matvecError(float[] deq, float[] w, float[][] xs) {
        double num = 0;
        double den = 0;
        for (float[] x : xs) {
            double[] y = TestData.matvec(w, N, N, x);
            double[] yq = TestData.matvec(deq, N, N, x);
            for (int i = 0; i < N; i++) {
                num += (yq[i] - y[i]) * (yq[i] - y[i]);
                den += y[i] * y[i];
            }
        }
        return Math.sqrt(num / den);
    }
}
