package dev.rg.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rg.api.backend.HostMemory;
import dev.rg.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A preset's random weights are all made before the backend loads the first of them: they are anonymous memory, and a
 * backend that sizes its own copies by the memory available (the vector backend's bf16 panels) must see it taken.
 * Made and loaded in turn, the 9B preset's early panels left too little for its later weights and the kernel killed
 * the JVM on a 24 GB machine. The load progress shows the order: every "generate" update before the first "load".
 */
class RandomModelOrderTest {
    @Test
    void everyRandomWeightIsMadeBeforeTheFirstIsLoaded() {
        ModelConfig c = ModelConfig.presetTiny();
        List<String> phases = new ArrayList<>();
        long[] generated = {0, 0};
        LoadProgress record = (phase, done, total) -> {
            phases.add(phase);
            if (phase.equals("generate")) {
                generated[0] = done;
                generated[1] = total;
            }
        };
        try (Model m = Model.random(c, "bf16", 5, LoadOptions.defaults().withBackend("reference"), record)) {
            assertEquals(c.layers(), m.griffin().weights().layers().size());
        }
        int firstLoad = phases.indexOf("load");
        int lastGenerate = phases.lastIndexOf("generate");
        assertTrue(firstLoad > 0 && lastGenerate >= 0 && lastGenerate < firstLoad, "progress phases in order: " + phases);
        long elements = WeightNames.tensors(c).stream().mapToLong(t -> t.shape().elementCount()).sum();
        assertEquals(elements, generated[1]);
        assertEquals(elements, generated[0], "generation reached its total");
    }

    @Test
    void randomWeightsLargerThanTheMachineAreRefusedInOneLineBeforeAnyIsMade() {
        assumeTrue(HostMemory.availableBytes() > 0, "no /proc/meminfo here");
        ModelConfig huge = ModelConfig.preset9b().withLayers(1024); // about 0.5 TB in bf16
        List<String> phases = new ArrayList<>();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Model.random(huge, "bf16", 5,
                LoadOptions.defaults().withBackend("reference"), (phase, done, total) -> phases.add(phase)));
        assertTrue(e.getMessage().startsWith("random weights of these shapes in bf16 need ")
                && e.getMessage().contains("GB is available (MemAvailable)") && !e.getMessage().contains("\n"), e.getMessage());
        assertTrue(phases.isEmpty(), "nothing was generated: " + phases);
    }
}
