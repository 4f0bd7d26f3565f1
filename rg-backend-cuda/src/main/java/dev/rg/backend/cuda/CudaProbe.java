package dev.rg.backend.cuda;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.DeviceClass;
import dev.rg.backend.cuda.driver.CuResult;
import dev.rg.backend.cuda.driver.CudaDriver;
import dev.rg.backend.cuda.driver.CudaException;

/**
 * Decides whether the CUDA backend can run here, and says why not precisely: no driver library, a stub library,
 * no device, a driver too old for the shipped PTX, a device older than its target, or the device's description.
 */
final class CudaProbe {
    /** What the probe found: the availability, and on success the device to use. */
    record Result(Availability availability, CudaDriver driver, int device, String description) {}

    private CudaProbe() {}

    /** Loads the driver and checks device {@code ordinal} against the shipped PTX. */
    static Result run(int ordinal, Ptx ptx) {
        CudaDriver driver;
        try {
            driver = CudaDriver.load();
        } catch (CudaDriver.LibraryNotFoundException e) {
            return no(e.getMessage());
        }
        return run(driver, ordinal, ptx);
    }

    static Result run(CudaDriver driver, int ordinal, Ptx ptx) {
        try {
            try {
                driver.init();
            } catch (CudaException e) {
                return switch (e.code()) {
                    case CuResult.NO_DEVICE -> no("no CUDA device (cuInit: " + e.errorName() + ")");
                    case CuResult.STUB_LIBRARY -> no(driver.library() + " is the CUDA toolkit's stub library, not an NVIDIA"
                            + " driver (" + e.errorName() + ")");
                    case CuResult.SYSTEM_DRIVER_MISMATCH -> no("the NVIDIA kernel module and " + driver.library()
                            + " are of different versions (" + e.errorName() + "): reboot or reinstall the driver");
                    case CuResult.OUT_OF_MEMORY -> no("out of memory while initialising CUDA (" + e.errorName() + ")");
                    default -> no("the CUDA driver failed to initialise: " + e.getMessage());
                };
            }
            int version = driver.driverVersion();
            if (version < ptx.requiredDriverVersion()) {
                return no("driver version " + Ptx.versionString(version) + " (" + version + ") too old for PTX ISA "
                        + ptx.isa() + ": needs a driver for CUDA " + Ptx.versionString(ptx.requiredDriverVersion())
                        + " or newer");
            }
            int count = driver.deviceCount();
            if (count == 0) {
                return no("no CUDA device (the driver " + Ptx.versionString(version) + " sees none)");
            }
            if (ordinal < 0 || ordinal >= count) {
                return no("CUDA device " + ordinal + " requested but there " + (count == 1 ? "is 1 device" : "are " + count
                        + " devices") + " (device=0.." + (count - 1) + ")");
            }
            int device = driver.device(ordinal);
            int major = driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            String name = driver.deviceName(device);
            if (major * 10 + minor < ptx.minComputeCapability()) {
                return no(name + " has compute capability " + major + "." + minor + ", below the "
                        + ptx.minComputeCapability() / 10 + "." + ptx.minComputeCapability() % 10 + " the kernels are built for ("
                        + ptx.target() + ")");
            }
            long mem = driver.totalMemory(device);
            String description = String.format("%s (device %d, sm_%d%d, %.1f GiB, %d SMs), driver %s", name, ordinal, major,
                    minor, mem / (double) (1L << 30),
                    driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), Ptx.versionString(version));
            return new Result(Availability.available(description, DeviceClass.GPU), driver, device, description);
        } catch (CudaException e) {
            return no(CuResult.isOutOfMemory(e.code()) ? "out of memory: " + e.getMessage() : e.getMessage());
        }
    }

    private static Result no(String reason) {
        return new Result(Availability.unavailable(reason), null, -1, null);
    }
}
