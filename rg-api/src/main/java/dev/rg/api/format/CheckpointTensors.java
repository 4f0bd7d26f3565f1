package dev.rg.api.format;

/**
 * What a {@link CheckpointAdapter} reads a checkpoint through: its tensors, and JSON stored in a tensor (bitsandbytes
 * keeps a quant-state blob as a U8 tensor) parsed by the runtime, so that a format plugin needs no JSON parser of its
 * own. The runtime implements it.
 */
public interface CheckpointTensors {
    /** The tensor {@code name}, in any shard of the checkpoint, or null when absent. */
    RawTensor find(String name);

    /**
     * The bytes of {@code tensor} parsed as one JSON value (strict UTF-8, duplicate keys refused, nothing but
     * whitespace after the value), as plain Java values: {@code Map<String, Object>} (keys in file order),
     * {@code List<Object>}, {@code String}, {@code Long} (integers that fit), {@code Double} (every other number),
     * {@code Boolean} and {@code null}. The caller checks the tensor's dtype and shape first.
     *
     * @throws IllegalArgumentException one line naming the file and the tensor, and where (line, column) and what
     *                                  was wrong
     */
    Object json(RawTensor tensor);
}
