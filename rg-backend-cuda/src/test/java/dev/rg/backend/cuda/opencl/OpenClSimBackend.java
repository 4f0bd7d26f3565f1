package dev.rg.backend.cuda.opencl;

import dev.rg.backend.cuda.device.DeviceBackend;

/**
 * The CUDA backend's kernels and launch logic on an OpenCL device (PoCL on a CPU in CI): {@link DeviceBackend} —
 * the class {@code CudaBackend} extends — over an {@link OpenClLauncher}. Test-only: it proves the kernels' logic
 * without a GPU; it says nothing about their speed.
 */
public final class OpenClSimBackend extends DeviceBackend {
    OpenClSimBackend(OpenClLauncher launcher) {
        super(OpenClSimBackendProvider.NAME, launcher);
    }
}
