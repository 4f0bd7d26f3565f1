package dev.rg.backend.vector;

/** The whole conformance kit (every op against the reference, every model fixture) on the vector backend, 2 threads. */
class VectorConformanceTest extends dev.rg.conformance.BackendConformanceTest {
    @Override
    protected String backend() {
        return "vector";
    }
}
