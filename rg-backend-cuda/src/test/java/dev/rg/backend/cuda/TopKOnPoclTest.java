package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.tensor.Tensor;
import dev.rg.backend.cuda.opencl.OpenClSimBackendProvider;
import dev.rg.core.reference.ReferenceBackend;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code rg_topk} against the reference, ids and value bits exact, on both of its paths: the filter (the elements
 * at or above a bound from the threads' maxima, ranked in shared memory; every element when k is above the block's
 * 256 threads) and the k rounds (more candidates than fit: ties, or a large k on a wide row). Rows wider than the block, narrower than it, with ties, infinities, signed zeros and NaN.
 */
class TopKOnPoclTest {
    private static Backend device;
    private static final Backend REFERENCE = new ReferenceBackend();

    @BeforeAll
    static void open() {
        var provider = new OpenClSimBackendProvider();
        Assumptions.assumeTrue(provider.probe().available(), "skipped: no OpenCL device to run the CUDA kernels on");
        device = provider.create(new BackendOptions(1, Map.of()));
    }

    @AfterAll
    static void close() throws Exception {
        if (device != null) {
            device.close();
        }
    }

    private static void check(String what, float[] values, int rows, int cols, int k) {
        Tensor onDevice = device.allocate(rows, cols);
        Tensor onHost = REFERENCE.allocate(rows, cols);
        device.upload(values, onDevice);
        REFERENCE.upload(values, onHost);
        int[] ids = new int[rows * k];
        float[] vals = new float[rows * k];
        int[] wantIds = new int[rows * k];
        float[] wantVals = new float[rows * k];
        device.kernels().topK(onDevice, k, ids, vals);
        REFERENCE.kernels().topK(onHost, k, wantIds, wantVals);
        assertArrayEquals(wantIds, ids, what + ", k=" + k + ": ids");
        int[] bits = new int[vals.length];
        int[] wantBits = new int[vals.length];
        for (int i = 0; i < vals.length; i++) {
            bits[i] = Float.floatToRawIntBits(vals[i]);
            wantBits[i] = Float.floatToRawIntBits(wantVals[i]);
        }
        assertArrayEquals(wantBits, bits, what + ", k=" + k + ": value bits");
        onDevice.close();
        onHost.close();
    }

    private static float[] gaussian(SplittableRandom r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * std);
        }
        return a;
    }

    @Test
    void distinctValuesAtEveryK() {
        SplittableRandom r = new SplittableRandom(17);
        int rows = 3;
        int cols = 5003;
        float[] logits = gaussian(r, rows * cols, 8);
        for (int k : new int[] {1, 2, 40, 255, 256, 257, 300}) { // up to 256: filtered; above: k rounds
            check("gaussian logits", logits, rows, cols, k);
        }
        float[] fits = gaussian(r, 2 * 1000, 5); // k above the block size, but every element fits: all ranked
        check("1000 columns", fits, 2, 1000, 300);
        float[] narrow = gaussian(r, 2 * 100, 3); // fewer columns than threads: most threads hold no element
        for (int k : new int[] {1, 40, 100}) {
            check("100 columns", narrow, 2, 100, k);
        }
    }

    @Test
    void tiesSpecialValuesAndOverflowingCandidates() {
        SplittableRandom r = new SplittableRandom(19);
        int cols = 3001;
        float[] levels = new float[2 * cols]; // three values: about 1000 candidates tie at the top, ranked by index
        for (int i = 0; i < levels.length; i++) {
            levels[i] = r.nextInt(3) - 1;
        }
        check("three levels", levels, 2, cols, 40);
        int wide = 9000; // two values: about 4500 tie at the top, more than the 2048 candidates kept: k rounds
        float[] two = new float[wide];
        for (int i = 0; i < wide; i++) {
            two[i] = r.nextBoolean() ? 0.5f : -0.5f;
        }
        check("two levels", two, 1, wide, 40);
        check("one value", new float[wide], 1, wide, 8);
        float[] special = gaussian(r, cols, 1);
        special[5] = Float.POSITIVE_INFINITY;
        special[700] = Float.NEGATIVE_INFINITY;
        special[11] = 0.0f;
        special[12] = -0.0f;
        special[2999] = Float.POSITIVE_INFINITY;
        special[1500] = Float.NaN;
        check("infinities, zeros and NaN", special, 1, cols, 40);
        float[] allNegative = gaussian(r, cols, 1);
        for (int i = 0; i < cols; i++) {
            allNegative[i] = -Math.abs(allNegative[i]) - 1;
        }
        check("negative values", allNegative, 1, cols, 40);
    }
}
