package dev.rg.backend.cuda.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The CUDA kernel sources as the jar ships them ({@code dev/rg/backend/cuda/rg_kernels.cu} and {@code rg_port.h},
 * copied from {@code src/main/cuda}), joined into one OpenCL C translation unit: the {@code #include "rg_port.h"} line
 * is replaced by the header. Nothing else is changed.
 */
public final class KernelSource {
    private KernelSource() {}

    static String resource(String name) {
        try (InputStream in = KernelSource.class.getResourceAsStream("/dev/rg/backend/cuda/" + name)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + name + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** rg_kernels.cu with rg_port.h inlined. */
    public static String openClProgram() {
        String kernels = resource("rg_kernels.cu");
        String include = "#include \"rg_port.h\"";
        if (!kernels.contains(include)) {
            throw new IllegalStateException("rg_kernels.cu does not include rg_port.h");
        }
        return kernels.replace(include, resource("rg_port.h"));
    }
}
