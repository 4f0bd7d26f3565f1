package dev.rg.core.model;

import dev.rg.api.format.WeightFormat;
import dev.rg.api.tensor.HostWeight;
import java.lang.foreign.Arena;

/**
 * Which weights a target format applies to, and the conversion itself: the large linear layers take the target
 * format, the tied embedding / LM head its own ({@link HeadFormat}); RG-LRU gates, conv, norms and biases keep their
 * stored precision.
 *
 * @param target the format of the linear layers, or null to keep them as stored
 * @param head   the format of the embedding / LM head, or null to keep it as stored
 */
record WeightConversion(WeightFormat target, WeightFormat head) {

    /** The format a tensor of this role is converted to, or null when it stays as stored. */
    WeightFormat formatOf(TensorRole role) {
        if (role == TensorRole.EMBEDDING) {
            return head;
        }
        return role.isLinear() ? target : null;
    }

    /** {@code w} in its target format (re-encoded from its exact dequantised values), or {@code w} itself. */
    HostWeight apply(HostWeight w, TensorRole role, Arena arena) {
        WeightFormat f = formatOf(role);
        if (f == null || w.format().name().equals(f.name())) {
            return w;
        }
        return f.quantize(w.name(), w.shape(), (row, dst) -> w.format().dequantizeRow(w, row, dst, 0), arena);
    }
}
