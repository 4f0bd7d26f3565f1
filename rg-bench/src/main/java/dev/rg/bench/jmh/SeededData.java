package dev.rg.bench.jmh;

import dev.rg.api.backend.Backend;
import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Seeded Gaussian tensors and weights, identical on every backend and in every JVM: the values of a tensor
 * depend only on the seed, its name and its row, never on what was generated before. Rows are slices of one pool
 * of Gaussian numbers at pseudo-random offsets (as {@code Model.random} does), so even the 655 M values of the
 * 2B LM head are made in seconds, and no float32 copy of a weight is ever held in full.
 */
public final class SeededData {
    /** The seed of every benchmark. */
    public static final long SEED = 20261122L;
    private static final int POOL = 1 << 20;
    private final float[] pool = new float[POOL];
    private final long seed;

    public SeededData(long seed) {
        this.seed = seed;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < POOL; i++) {
            // Box-Muller
            double u = 1.0 - r.nextDouble();
            pool[i] = (float) (Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble()));
        }
    }

    /** Fills {@code dst} with row {@code row} of tensor {@code name}: mean + std * N(0, 1). */
    public void row(String name, long row, float[] dst, double mean, double std) {
        int start = (int) ((mix(salt(name) + row) >>> 1) % POOL);
        for (int i = 0; i < dst.length; i++) {
            dst[i] = (float) (mean + std * pool[(start + i * 7) & (POOL - 1)]);
        }
    }

    /** A whole tensor's values, row-major. */
    public float[] values(String name, int rows, int cols, double mean, double std) {
        float[] all = new float[Math.multiplyExact(rows, cols)];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            row(name, r, row, mean, std);
            System.arraycopy(row, 0, all, r * cols, cols);
        }
        return all;
    }

    /** A float32 tensor on {@code backend} holding {@link #values} (zero-mean). */
    public Tensor tensor(Backend backend, String name, int rows, int cols, double std) {
        Tensor t = backend.allocate(rows, cols);
        backend.upload(values(name, rows, cols, 0, std), t);
        return t;
    }

    /**
     * A weight of {@code shape} in {@code format}, encoded from the seeded values with the format's own
     * quantiser (so every backend gets the same bytes) and loaded onto {@code backend}.
     */
    public Weight weight(Backend backend, Arena arena, String name, WeightFormat format, double mean, double std,
            long... dims) {
        return backend.loadWeight(hostWeight(arena, name, format, mean, std, dims));
    }

    /** The host weight {@link #weight} loads: the seeded values encoded in {@code format}. */
    public HostWeight hostWeight(Arena arena, String name, WeightFormat format, double mean, double std, long... dims) {
        return format.quantize(name, Shape.of(dims), (row, dst) -> row(name, row, dst, mean, std), arena);
    }

    private long salt(String name) {
        long h = seed;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = mix(h ^ b);
        }
        return h;
    }

    /** splitmix64's finaliser: decorrelates consecutive rows and names. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
