package dev.rg.core.model;

import dev.rg.api.tensor.Tensor;

/** Receives the residual stream after each decoder layer (HF's hidden states); for inspection, not the hot path. */
@FunctionalInterface
public interface LayerObserver {
    /** {@code hidden} is {@code [rows, H]}, valid only during the call. */
    void afterLayer(int layer, Tensor hidden);
}
