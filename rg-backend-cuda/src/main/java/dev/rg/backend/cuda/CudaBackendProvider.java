package dev.rg.backend.cuda;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.backend.cuda.device.DeviceBackend;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.Capabilities;
import dev.rg.backend.cuda.device.WeightCodec;
import dev.rg.backend.cuda.driver.CuResult;
import dev.rg.backend.cuda.driver.CudaException;

/**
 * The {@code cuda} backend provider (priority 300). Constructing it touches no native code: the driver library
 * ({@code libcuda.so.1}) is looked up only by {@link #probe()} and {@link #create}. Settings: {@code device=N}
 * picks the GPU (default 0).
 */
public final class CudaBackendProvider implements BackendProvider {
    /** Its name for {@code --backend}. */
    public static final String NAME = "cuda";
    /** Setting that selects the device ordinal. */
    public static final String DEVICE = "device";

    private volatile Availability probed;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "NVIDIA GPU through the CUDA driver API (FFM, PTX kernels for sm_80+); weights and state on the device";
    }

    @Override
    public int priority() {
        return 300;
    }

    @Override
    public Availability probe() {
        Availability a = probed;
        if (a == null) {
            try {
                a = CudaProbe.run(0, Ptx.shipped()).availability();
            } catch (RuntimeException | LinkageError e) {
                a = Availability.unavailable("CUDA probe failed: " + e);
            }
            probed = a;
        }
        return a;
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.allOps(WeightCodec.supportedFormats());
    }

    @Override
    public Backend create(BackendOptions options) {
        int ordinal = device(options);
        boolean graphs = DeviceBackend.graphsSetting(options);
        boolean fusedNorms = DeviceBackend.fusedNormsSetting(options);
        Ptx ptx = Ptx.shipped();
        CudaProbe.Result r = CudaProbe.run(ordinal, ptx);
        if (!r.availability().available()) {
            throw new BackendUnavailableException(r.availability().reason());
        }
        try {
            CudaBackend b = new CudaBackend(new CudaLauncher(r.driver(), r.device(), r.description(), ptx));
            b.launcher().useGraphs(graphs);
            b.fuseNormsIntoMatmuls(fusedNorms);
            return b;
        } catch (CudaException e) {
            if (CuResult.isOutOfMemory(e.code())) {
                throw new BackendUnavailableException("out of memory on " + r.description() + ": " + e.getMessage(), e);
            }
            throw new BackendUnavailableException("cannot start CUDA on " + r.description() + ": " + e.getMessage(), e);
        }
    }

    static int device(BackendOptions options) {
        String d = options.settings().get(DEVICE);
        if (d == null || d.isBlank()) {
            return 0;
        }
        try {
            return Integer.parseInt(d.strip());
        } catch (NumberFormatException e) {
            throw new BackendUnavailableException("setting device=" + d + " is not a device number");
        }
    }
}
