package dev.rg.api.format;

import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Shape;
import java.util.Map;
import java.util.Optional;

/**
 * Reads weights that a checkpoint stores in a foreign multi-tensor layout, such as bitsandbytes 4-bit
 * ({@code P.weight}, {@code P.weight.absmax}, ...). Discovered with {@link java.util.ServiceLoader}; the loader
 * asks each adapter that {@link #accepts} the checkpoint before reading a tensor as a plain dense one.
 */
public interface CheckpointAdapter {
    /** A short name for messages, e.g. {@code "bitsandbytes"}. */
    String name();

    /**
     * Whether this adapter applies to a checkpoint.
     *
     * @param quantizationConfig the {@code quantization_config} object of config.json as plain Java values
     *                           (maps, lists, strings, numbers, booleans); empty when absent
     * @throws InvalidWeightException if the config claims this adapter's method but asks for something it
     *                                cannot read (e.g. an unsupported quant type), with a clear message
     */
    boolean accepts(Map<String, Object> quantizationConfig);

    /**
     * Builds the weight {@code name} of logical shape {@code expected} if the checkpoint stores it in this
     * adapter's layout; empty if it is stored as a plain tensor.
     *
     * @param tensors the checkpoint's tensors by name, in any shard (null when absent), and JSON stored in tensors
     * @throws InvalidWeightException naming the tensor when the stored data is inconsistent
     */
    Optional<HostWeight> assemble(String name, Shape expected, CheckpointTensors tensors);
}
