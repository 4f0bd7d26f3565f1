package dev.rg.api.backend;

import dev.rg.api.tensor.HostWeight;
import dev.rg.api.tensor.Tensor;
import dev.rg.api.tensor.Weight;

/**
 * A live backend: it owns memory (host or device) and, for CPU backends, worker threads. Weights are loaded
 * once with {@link #loadWeight}; activations and state are {@link #allocate allocated} on it and stay there;
 * {@link #upload} and {@link #download} are the only host/device transfers of tensor data.
 */
public interface Backend extends AutoCloseable {
    /** The provider name. */
    String name();

    /** What runs natively (see {@link Capabilities} for the per-op fallback). */
    Capabilities capabilities();

    /** The kernels, operating on this backend's tensors. */
    Kernels kernels();

    /**
     * Makes a weight usable by the kernels. CPU backends may return a zero-copy view of {@code w} (for example
     * of a memory-mapped file); device backends copy it to the device once.
     *
     * @throws IllegalArgumentException if the weight's format is not in {@link Capabilities#weightFormats()}
     *                                  and the weight is used by MATMUL/EMBED, or is not dense otherwise
     */
    Weight loadWeight(HostWeight w);

    /** A zero-filled float32 tensor of {@code rows x cols}. */
    Tensor allocate(int rows, int cols);

    /** Copies {@code src} (exactly {@code dst.size()} floats) into {@code dst}. */
    void upload(float[] src, Tensor dst);

    /** Copies {@code src} into {@code dst} (at least {@code src.size()} floats). */
    void download(Tensor src, float[] dst);

    /**
     * Problems found by the backend's start-up self-check that do not stop it but make it much slower than it
     * should be (e.g. the Vector API running without C2 intrinsics). Front ends show them to the user.
     */
    default java.util.List<String> warnings() {
        return java.util.List.of();
    }

    /**
     * Measures, now, how fast this backend reads the memory its weights live in, in GB/s (10^9 bytes per second),
     * over a buffer of about {@code bytes}: the limit that benchmarks compare decode speed with. Empty (the default)
     * for backends whose weights are in host memory, where the host's memory-read probe is that limit; a device
     * backend measures its own memory, which the host probe cannot see.
     */
    default java.util.OptionalDouble measureReadBandwidth(long bytes) {
        return java.util.OptionalDouble.empty();
    }

    /** Worker threads the backend computes with. */
    default int threads() {
        return 1;
    }

    /** Releases threads and memory. Tensors and weights of this backend are invalid afterwards. */
    @Override
    void close();
}
