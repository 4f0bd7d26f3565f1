package dev.rg.backend.cuda.opencl;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.backend.cuda.device.DeviceBackend;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.Capabilities;
import dev.rg.backend.cuda.device.WeightCodec;
import java.util.List;

/**
 * Provider {@value #NAME}: registered only in the test resources, so users never see it. Lowest priority, so it is
 * never chosen automatically.
 */
public final class OpenClSimBackendProvider implements BackendProvider {
    public static final String NAME = "cuda-opencl-sim";

    private static volatile Object found; // OpenCl.Device, or a String reason

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "test only: the CUDA backend's kernels built as OpenCL C on an OpenCL device (PoCL)";
    }

    @Override
    public int priority() {
        return -1000;
    }

    /** The first OpenCL device, preferring PoCL; or the reason there is none. */
    static synchronized Object device() {
        if (found == null) {
            try {
                List<OpenCl.Device> devices = OpenCl.load().devices();
                found = devices.isEmpty() ? "no OpenCL platform with a device (install pocl-opencl-icd)"
                        : devices.stream().filter(d -> d.platformName().contains("Portable")).findFirst()
                                .orElse(devices.get(0));
            } catch (RuntimeException | LinkageError e) {
                found = e.getMessage() == null ? e.toString() : e.getMessage();
            }
        }
        return found;
    }

    @Override
    public Availability probe() {
        Object d = device();
        return d instanceof OpenCl.Device dev ? Availability.available(dev.name() + " on " + dev.platformName())
                : Availability.unavailable((String) d);
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.allOps(WeightCodec.supportedFormats());
    }

    @Override
    public Backend create(BackendOptions options) {
        Object d = device();
        if (!(d instanceof OpenCl.Device dev)) {
            throw new BackendUnavailableException((String) d);
        }
        boolean graphs = DeviceBackend.graphsSetting(options);
        boolean fusedNorms = DeviceBackend.fusedNormsSetting(options);
        OpenClSimBackend b = new OpenClSimBackend(new OpenClLauncher(OpenCl.load(), dev));
        b.launcher().useGraphs(graphs);
        b.fuseNormsIntoMatmuls(fusedNorms);
        return b;
    }
}
