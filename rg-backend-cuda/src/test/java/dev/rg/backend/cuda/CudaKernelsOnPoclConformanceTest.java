package dev.rg.backend.cuda;

import dev.rg.backend.cuda.opencl.OpenClSimBackendProvider;
import dev.rg.conformance.BackendConformanceTest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The whole conformance kit (every op against the reference backend, then every model fixture) on the CUDA
 * backend's kernels and launch logic, built as OpenCL C and run on a CPU OpenCL device (PoCL). Skipped, with the
 * reason, where no OpenCL platform is installed; CI installs pocl-opencl-icd so that it runs there.
 */
class CudaKernelsOnPoclConformanceTest extends BackendConformanceTest {
    /** Per factory (not @BeforeAll) so that the skip and its reason show in the report as skipped tests. */
    @BeforeEach
    void needsOpenCl() {
        var a = new OpenClSimBackendProvider().probe();
        Assumptions.assumeTrue(a.available(), () -> "skipped: no OpenCL device to run the CUDA kernels on ("
                + a.reason() + ")");
    }

    /** Reports the OpenCL device the kernels ran on, or (skipped) why there is none: visible in the test report. */
    @Test
    void openClDevice() {
        System.out.println("CUDA kernels run as OpenCL C on: " + new OpenClSimBackendProvider().probe().reason());
    }

    @Override
    protected String backend() {
        return OpenClSimBackendProvider.NAME;
    }
}
