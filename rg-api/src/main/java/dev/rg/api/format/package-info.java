/**
 * Weight formats: the dense {@code f32}/{@code bf16}/{@code f16} storage and the quantisation plugin SPI
 * ({@link dev.rg.api.format.WeightFormat}), plus {@link dev.rg.api.format.CheckpointAdapter} for checkpoints
 * that store a weight as several tensors (bitsandbytes).
 */
package dev.rg.api.format;
