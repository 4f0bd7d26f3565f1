package dev.rg.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendUnavailableException;
import dev.rg.api.backend.Op;
import dev.rg.backend.cuda.driver.CudaDriver;
import dev.rg.core.runtime.BackendRegistry;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** On a machine without an NVIDIA driver the backend says exactly that, everywhere it is asked. */
class CudaUnavailableTest {
    static final String REASON = "libcuda.so.1 not found (no NVIDIA driver)";

    @BeforeAll
    static void noDriverHere() {
        Assumptions.assumeTrue(System.getProperty(CudaDriver.LIBRARY_PROPERTY) == null, "a driver library is configured");
        boolean present;
        try {
            SymbolLookup.libraryLookup(CudaDriver.LIBRARY, Arena.global());
            present = true;
        } catch (IllegalArgumentException e) {
            present = false;
        }
        Assumptions.assumeFalse(present, "skipped: this machine has " + CudaDriver.LIBRARY
                + " (an NVIDIA driver); the unavailable path is tested on machines without one");
    }

    @Test
    void probeNamesTheMissingLibrary() {
        Availability a = new CudaBackendProvider().probe();
        assertFalse(a.available());
        assertEquals(REASON, a.reason());
    }

    @Test
    void createThrowsTheSameReason() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> new CudaBackendProvider().create(new BackendOptions(1, Map.of())));
        assertEquals(REASON, e.getMessage());
    }

    @Test
    void theRegistryListsItUnavailableAndAutoSkipsIt() {
        BackendRegistry.Entry cuda = BackendRegistry.discover().stream().filter(e -> e.name().equals("cuda")).findFirst()
                .orElseThrow();
        assertEquals(REASON, cuda.availability().reason());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> BackendRegistry.select("cuda"));
        assertEquals("backend 'cuda' is not available: " + REASON, e.getMessage());
        assertFalse(BackendRegistry.select("auto").name().equals("cuda"));
    }

    @Test
    void listingTheProviderNeedsNoDriver() {
        CudaBackendProvider p = new CudaBackendProvider();
        assertEquals("cuda", p.name());
        assertEquals(300, p.priority());
        assertTrue(p.capabilities().supports(Op.MATMUL, "bf16"));
        assertTrue(p.capabilities().ops().containsAll(java.util.EnumSet.allOf(Op.class)));
        for (Op op : Op.values()) {
            assertTrue(op.implementedBy(dev.rg.backend.cuda.device.DeviceKernels.class), op + " is implemented, not a fallback");
        }
    }
}
