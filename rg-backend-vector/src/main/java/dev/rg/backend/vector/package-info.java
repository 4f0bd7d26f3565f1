/**
 * The vector backend. Public: {@link dev.rg.backend.vector.VectorBackendProvider} (found by ServiceLoader),
 * {@link dev.rg.backend.vector.VectorBackend}, the start-up self-check {@link dev.rg.backend.vector.VectorSupport} and
 * the bandwidth probe's {@link dev.rg.backend.vector.VectorMemoryReader}.
 *
 * <p>Layout of the package, one job per class: {@code WorkerPool} (persistent workers, dynamic units),
 * {@code Matmul} (row-split driver) with one {@code RowDot} per weight format ({@code F32RowDot},
 * {@code Bf16PanelDot} on bf16 matrices repacked at load by {@code Bf16Panels} ({@code Bf16RowDot} with
 * {@code bf16-layout=rows}), {@code F16RowDot}, and for the quantised formats of rg-quant {@code Int8RowDot} and
 * {@code Nf4RowDot} (nf4, fp4, and their -dq variants converted at load) on the shared decode/batched structure of
 * {@code QuantRowDot} with the float tiles of {@code FloatTiles}; registered in {@code RowDots}), {@code DenseWeights}
 * (reading small dense weights in place), and one class per op family: {@code Embedding}, {@code RmsNorm}, {@code ElementwiseOps},
 * {@code Conv1d}, {@code RgLru}, {@code Rope}, {@code Attention}, {@code Selection}; {@code VectorKernels} checks
 * arguments and dispatches.
 */
package dev.rg.backend.vector;
