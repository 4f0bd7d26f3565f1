package dev.rg.api.format;

import dev.rg.api.tensor.DType;
import dev.rg.api.tensor.Shape;
import java.lang.foreign.MemorySegment;

/**
 * One tensor exactly as stored in a checkpoint file (bounds-checked slice of the mapped file).
 *
 * @param name  the tensor name in the file
 * @param dtype the stored dtype
 * @param shape the stored shape
 * @param data  the raw little-endian bytes
 * @param file  the file it came from (for error messages)
 */
public record RawTensor(String name, DType dtype, Shape shape, MemorySegment data, String file) {}
