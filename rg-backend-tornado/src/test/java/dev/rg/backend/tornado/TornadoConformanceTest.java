package dev.rg.backend.tornado;

import dev.rg.conformance.BackendConformanceTest;

/**
 * The whole conformance kit (every op against the reference, every model and bitsandbytes fixture) on the
 * TornadoVM backend, on TornadoVM's default device (OpenCL; PoCL on a machine without a GPU).
 */
class TornadoConformanceTest extends BackendConformanceTest {
    @Override
    protected String backend() {
        return "tornado";
    }
}
