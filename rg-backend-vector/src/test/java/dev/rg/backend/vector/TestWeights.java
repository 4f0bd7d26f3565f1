package dev.rg.backend.vector;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostTensor;
import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** Seeded random weights and tensors for the unit tests. */
final class TestWeights {
    private final Arena arena;
    private final SplittableRandom random;

    TestWeights(Arena arena, long seed) {
        this.arena = arena;
        this.random = new SplittableRandom(seed);
    }

    float[] gaussian(int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (random.nextGaussian() * std);
        }
        return a;
    }

    HostWeight weight(String name, WeightFormat format, float[] values, long... dims) {
        Shape shape = Shape.of(dims);
        int cols = Math.toIntExact(shape.lastDim());
        return format.quantize(name, shape, (row, dst) -> System.arraycopy(values, Math.toIntExact(row * cols), dst, 0, cols),
                arena);
    }

    HostWeight random(String name, WeightFormat format, double std, long... dims) {
        return weight(name, format, gaussian(Math.toIntExact(Shape.of(dims).elementCount()), std), dims);
    }

    HostTensor tensor(int rows, int cols, double std) {
        return new HostTensor(rows, cols, gaussian(rows * cols, std));
    }
}
