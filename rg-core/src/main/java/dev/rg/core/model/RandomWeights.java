package dev.rg.core.model;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.format.WeightFormats;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import dev.rg.core.config.ModelConfig;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * Seeded random weights of a model's real shapes, scaled like the HF initialisation (spec §9) so activations
 * stay in a realistic range. Used by {@code rg bench --preset} and by tests. Rows are slices of one pool of
 * Gaussian numbers at pseudo-random offsets: a 2B model (2.7 G values) is made in seconds, not minutes, and
 * no two rows of a matrix are alike.
 */
final class RandomWeights {
    private static final int POOL = 1 << 20;
    private final float[] pool = new float[POOL];
    private final ModelConfig config;
    private final WeightFormat linearFormat;
    private final WeightFormat headFormat;
    private final long seed;
    private final Arena arena;

    RandomWeights(ModelConfig config, WeightFormat linearFormat, WeightFormat headFormat, long seed, Arena arena) {
        this.config = config;
        this.linearFormat = linearFormat;
        this.headFormat = headFormat;
        this.seed = seed;
        this.arena = arena;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < POOL; i++) {
            pool[i] = (float) gaussian(r);
        }
    }

    /** The format {@code t} is made in: linear layers in the chosen format, the embedding in the head's, the rest f32. */
    private WeightFormat format(ExpectedTensor t) {
        return switch (t.role()) {
            case LINEAR -> linearFormat;
            case EMBEDDING -> headFormat;
            case NORM, BIAS, CONV, GATE, PARAM -> WeightFormats.f32();
        };
    }

    /** Bytes {@link #create} allocates for {@code t}. */
    long byteSize(ExpectedTensor t) {
        return format(t).byteSize(t.shape());
    }

    HostWeight create(ExpectedTensor t) {
        String name = t.name();
        Shape shape = t.shape();
        WeightFormat format = format(t);
        double std = switch (t.role()) {
            case NORM -> 0.1;
            case BIAS, PARAM -> 0.05;
            case EMBEDDING -> Math.sqrt(1.0 / config.hiddenSize());
            case LINEAR, CONV, GATE -> Math.sqrt(1.0 / shape.lastDim());
        };
        double mean = t.role() == TensorRole.PARAM ? 1.0 : 0.0;
        long salt = new SplittableRandom(seed ^ name.hashCode()).nextLong();
        return format.quantize(name, shape, (row, dst) -> {
            int start = (int) ((mix(salt + row) >>> 1) % POOL);
            for (int i = 0; i < dst.length; i++) {
                dst[i] = (float) (mean + std * pool[(start + i * 7) & (POOL - 1)]);
            }
        }, arena);
    }

    /** A 64-bit finaliser (splitmix64): decorrelates consecutive row numbers. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller: SplittableRandom has no nextGaussian in every JDK profile we target
        double u = 1.0 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
