package dev.rg.core.model;

import dev.rg.api.tensor.Shape;

/**
 * One tensor a model of a given config needs: its checkpoint name, the layer it belongs to (-1 for the
 * embedding and final norm), what it is, and the shape the config gives it.
 */
public record ExpectedTensor(String name, int layer, TensorSpec spec, Shape shape) {
    public TensorRole role() {
        return spec.role();
    }
}
