package dev.rg.backend.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.conformance.CheckResult;
import dev.rg.conformance.OpConformance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The op checks again with buffers sized so that everything that can outgrow the device plan does: a 1024-float
 * arena (grows, so the arena is copied back and the plan rebuilt while tensors hold state), little spare weight
 * capacity (weights loaded after the first kernel go through the staging graph or force a rebuild) and weight
 * buffers of 65536 elements (above the kit's largest weight, 52800 elements; the weights spread over several buffer groups, each with its own matmul graph).
 */
class TornadoRebuildTest {
    @Test
    void everyOpSurvivesPlanRebuildsAndSeveralWeightGroups() {
        Map<String, String> tight = Map.of("arenaMB", "0.004", "weightSlack", "4096", "groupElements", "65536");
        try (Backend b = new TornadoBackendProvider().create(new BackendOptions(2, tight))) {
            List<CheckResult> results = new OpConformance(b).run();
            List<CheckResult> failed = results.stream().filter(r -> !r.passed()).toList();
            assertEquals(List.of(), failed);
            int builds = ((TornadoBackend) b).session().builds();
            assertTrue(builds > 5, "expected the tight buffers to force plan rebuilds, got " + builds);
        }
    }
}
