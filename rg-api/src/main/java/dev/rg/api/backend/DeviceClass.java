package dev.rg.api.backend;

/**
 * What a backend's kernels run on, as its {@link BackendProvider#probe() probe} sees it. Automatic selection ranks
 * by this class first and by {@link BackendProvider#priority()} second (see {@link #selectionTier()}), so a backend
 * written for devices does not win on a machine where its only device is the CPU.
 */
public enum DeviceClass {
    /** JVM code on the host CPU (the reference and vector backends). */
    HOST,
    /**
     * A device API's CPU device, e.g. OpenCL on the CPU through PoCL: it works, but a backend written for the host
     * is usually faster there.
     */
    CPU,
    /** A GPU. */
    GPU,
    /** Another accelerator (FPGA, NPU, ...). */
    ACCELERATOR;

    /**
     * Rank in automatic selection, higher first: GPU and ACCELERATOR 2, HOST 1, CPU 0. Among providers of one tier
     * the higher priority wins.
     */
    public int selectionTier() {
        return switch (this) {
            case GPU, ACCELERATOR -> 2;
            case HOST -> 1;
            case CPU -> 0;
        };
    }
}
