package dev.rg.backend.vector;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The allocation test's diagnosis names the method that allocates, not only a byte count. */
class AllocationSitesTest {
    private static volatile Object sink;

    @Test
    void namesTheAllocatingMethod() {
        String sites = AllocationSites.describe(() -> {
            for (int i = 0; i < 20_000; i++) {
                allocateBuffers(i);
            }
        }, new long[] {Thread.currentThread().threadId()}, 3);
        // the site with its caller, the type, and the tier of the site's code
        assertTrue(sites.contains("AllocationSitesTest.allocateBuffers <- ")
                && sites.contains("allocating float[] [dev.rg.backend.vector.AllocationSitesTest.allocateBuffers: "), sites);
    }

    /** About 160 MB of float arrays in all: many TLABs, so JFR samples this frame. */
    private static void allocateBuffers(int i) {
        sink = new float[2048 + (i & 7)];
    }
}
