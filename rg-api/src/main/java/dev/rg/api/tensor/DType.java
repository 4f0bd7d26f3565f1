package dev.rg.api.tensor;

import java.util.Locale;
import java.util.Optional;

/** Element types as stored in safetensors files and in backend memory. */
public enum DType {
    F32(4, "F32"), F16(2, "F16"), BF16(2, "BF16"), F64(8, "F64"),
    I8(1, "I8"), U8(1, "U8"), I16(2, "I16"), I32(4, "I32"), I64(8, "I64"), BOOL(1, "BOOL");

    private final int byteSize;
    private final String safetensorsName;

    DType(int byteSize, String safetensorsName) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype string used in safetensors headers, e.g. {@code "BF16"}. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** Looks up a safetensors dtype string; empty for one rg does not know. */
    public static Optional<DType> fromSafetensors(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name.toUpperCase(Locale.ROOT))) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
