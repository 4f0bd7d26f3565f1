/**
 * The JDK Vector API backend: SIMD kernels ({@code jdk.incubator.vector}) on a fixed pool of worker threads,
 * weights used in place from their (memory-mapped) segments. Entry point: {@link dev.rg.backend.vector.VectorBackendProvider}.
 */
module dev.rg.backend.vector {
    // transitive: the public VectorBackend and VectorBackendProvider expose SPI types
    requires transitive dev.rg.api;
    requires jdk.incubator.vector;
    requires java.management;

    exports dev.rg.backend.vector;

    provides dev.rg.api.backend.BackendProvider with dev.rg.backend.vector.VectorBackendProvider;
}
