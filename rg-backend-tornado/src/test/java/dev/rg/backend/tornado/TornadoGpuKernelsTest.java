package dev.rg.backend.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.OpConformance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The op checks with the kernel set laid out for a GPU ({@code kernels=gpu}: the work-group matmul, the two-task
 * RG-LRU), which a CPU device does not pick by default: on PoCL the whole kit runs the CPU set, so this keeps the GPU
 * kernels checked on the build machine too.
 */
class TornadoGpuKernelsTest {
    @Test
    void everyOpPassesWithTheGpuKernelSet() {
        try (Backend b = new TornadoBackendProvider().create(new BackendOptions(2, Map.of("kernels", "gpu")))) {
            assertFalse(((TornadoBackend) b).session().cpuKernels());
            List<CheckResult> failed = new OpConformance(b).run().stream().filter(r -> !r.passed()).toList();
            assertEquals(List.of(), failed);
        }
    }
}
