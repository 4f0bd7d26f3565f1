package dev.rg.backend.cuda;

import dev.rg.backend.cuda.device.DeviceBackend;

/**
 * The CUDA backend: weights uploaded once to device memory, activations and state allocated there, every op a
 * kernel of the shipped PTX launched on one stream through the driver API (FFM, no JNI). Only token ids, start
 * positions and sampled ids/values cross to and from the host per step, plus whatever the caller downloads.
 */
public final class CudaBackend extends DeviceBackend {
    private final CudaLauncher cuda;

    CudaBackend(CudaLauncher launcher) {
        super(CudaBackendProvider.NAME, launcher);
        this.cuda = launcher;
    }

    /** The device, in words. */
    public String device() {
        return cuda.device();
    }

    /** Device time of the kernels {@code work} launches, in milliseconds (CUDA events). */
    public float timeMillis(Runnable work) {
        return cuda.time(work);
    }

    /** {@code {free, total}} bytes of device memory. */
    public long[] memoryInfo() {
        return cuda.memoryInfo();
    }
}
