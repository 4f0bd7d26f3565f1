package dev.rg.backend.vector;

import static dev.rg.backend.vector.Simd.F;
import static dev.rg.backend.vector.Simd.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * How a register tile ends: it parks its accumulator vectors in its thread's scratch ({@code acc[a + v * L ..]}) and
 * returns from a helper that reduces them, adds the scalar tails and writes the outputs.
 *
 * <p>A 4 x 4 tile that did all that itself after its loop was slower, most likely because that code's temporaries
 * made C2 spill accumulators inside the FMA loop (inferred from timings; there was no disassembler to show it). In a
 * stand-alone copy of the bf16 tile on one Zen 5 core (K = 1024, L1-resident) 94 vs 184 GFLOP/s; in
 * {@code VectorBench 1 prefill} (128 x [2560 x 2560] bf16) 117-123 vs 134-150 GFLOP/s. The reduction is the same
 * {@code reduceLanes} as before, so every tile of a kernel still sums a row in the same order and the results are bit
 * for bit those of before.
 */
final class Accumulators {
    /** Floats of scratch for the largest tile's accumulators (4 x 4 vectors). */
    static final int FLOATS = 16 * L;

    private Accumulators() {}

    /** The lane sum of the {@code v}-th vector parked from {@code acc[a]} on. */
    static float sum(float[] acc, int a, int v) {
        return FloatVector.fromArray(F, acc, a + v * L).reduceLanes(VectorOperators.ADD);
    }
}
