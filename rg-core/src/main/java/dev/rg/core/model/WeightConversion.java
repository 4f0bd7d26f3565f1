package dev.rg.core.model;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import java.lang.foreign.Arena;

/**
 * Which weights a target format applies to, and the conversion itself: the large linear layers always, the
 * tied embedding / LM head only when asked; RG-LRU gates, conv, norms and biases keep their stored precision.
 *
 * @param target      the format to convert to, or null to keep every weight as stored
 * @param includeHead whether the embedding / LM head is converted too
 */
record WeightConversion(WeightFormat target, boolean includeHead) {

    boolean applies(TensorRole role) {
        return target != null && (role.isLinear() || (includeHead && role == TensorRole.EMBEDDING));
    }

    /** {@code w} in the target format (re-encoded from its exact dequantised values), or {@code w} itself. */
    HostWeight apply(HostWeight w, TensorRole role, Arena arena) {
        if (!applies(role) || w.format().name().equals(target.name())) {
            return w;
        }
        return target.quantize(w.name(), w.shape(), (row, dst) -> w.format().dequantizeRow(w, row, dst, 0), arena);
    }
}
