package dev.rg.quant;

import dev.rg.api.format.RowSource;
import dev.rg.api.tensor.HostWeight;
import java.util.SplittableRandom;

/** Seeded random matrices for the tests: Gaussian and heavy-tailed, never all zeros or ones. */
public final class TestData {
    private TestData() {}

    /** rows x cols of N(0, sigma^2), row-major. */
    public static float[] gaussian(int rows, int cols, double sigma, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[rows * cols];
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) (r.nextGaussian() * sigma);
        }
        return m;
    }

    /** rows x cols of Student-t with 3 degrees of freedom times {@code scale}: heavy tails, rare large outliers. */
    public static float[] heavyTailed(int rows, int cols, double scale, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[rows * cols];
        for (int i = 0; i < m.length; i++) {
            double chi2 = 0;
            for (int k = 0; k < 3; k++) {
                double g = r.nextGaussian();
                chi2 += g * g;
            }
            m[i] = (float) (r.nextGaussian() / Math.sqrt(chi2 / 3) * scale);
        }
        return m;
    }

    /** Gaussian with a log-normal scale per row, {@code 0.05 * exp(0.7 N(0,1))}, like real projection weights. */
    public static float[] rowScaled(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] m = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            double s = 0.05 * Math.exp(0.7 * r.nextGaussian());
            for (int j = 0; j < cols; j++) {
                m[i * cols + j] = (float) (r.nextGaussian() * s);
            }
        }
        return m;
    }

    /** The rows of a row-major matrix. */
    public static RowSource rows(float[] m, int cols) {
        return (row, dst) -> System.arraycopy(m, Math.toIntExact(row * cols), dst, 0, cols);
    }

    /** Dequantises every row of {@code w} into one row-major array. */
    public static float[] dequantize(HostWeight w) {
        int cols = w.cols();
        int rows = w.rows();
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            w.format().dequantizeRow(w, r, out, r * cols);
        }
        return out;
    }

    /** RMS relative error ||a - ref|| / ||ref||. */
    public static double relRms(float[] a, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    /** y = W x in double for a rows x cols matrix. */
    public static double[] matvec(float[] w, int rows, int cols, float[] x) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += (double) w[r * cols + c] * x[c];
            }
            y[r] = s;
        }
        return y;
    }

    /** ||a - ref|| / ||ref|| of two vectors. */
    public static double relRms(double[] a, double[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - ref[i]) * (a[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }
}
