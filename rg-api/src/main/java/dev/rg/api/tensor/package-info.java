/** Shapes, dtypes, backend-owned tensors and weights, and host weights read from checkpoints. */
package dev.rg.api.tensor;
