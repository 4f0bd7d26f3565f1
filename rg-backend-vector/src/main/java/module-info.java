/**
 * The JDK Vector API backend: SIMD kernels ({@code jdk.incubator.vector}) on a fixed pool of worker threads,
 * weights used in place from their (memory-mapped) segments. Entry point: {@link dev.rg.backend.vector.VectorBackendProvider}.
 */
module dev.rg.backend.vector {
    // transitive: the public VectorBackend and VectorBackendProvider expose SPI types
    requires transitive dev.rg.api;
    // the quantised layouts (int8, nf4, fp4) run natively here
    requires dev.rg.quant;
    requires jdk.incubator.vector;
    requires java.management;

    exports dev.rg.backend.vector;

    provides dev.rg.api.backend.BackendProvider with dev.rg.backend.vector.VectorBackendProvider;
    provides dev.rg.api.backend.MemoryReader with dev.rg.backend.vector.VectorMemoryReader,
            dev.rg.backend.vector.VectorStreamsMemoryReader;
}
