package dev.rg.core.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The read probe's buffer: sized per thread, measured as often as asked without being allocated again. */
class MemoryReadProbeTest {

    @Test
    void bufferIsAWholeNumberOfCacheLinesPerThread() {
        try (MemoryReadProbe.Buffer b = MemoryReadProbe.allocate(1_000_003, 3)) {
            assertEquals(0, b.bytes() % (64 * 3));
            assertTrue(b.bytes() <= 1_000_003 && b.bytes() > 1_000_003 - 64 * 3, "size " + b.bytes());
            assertEquals(3, b.threads());
        }
        try (MemoryReadProbe.Buffer tiny = MemoryReadProbe.allocate(1, 2)) {
            assertEquals(128, tiny.bytes(), "at least one line per thread");
        }
    }

    @Test
    void oneBufferServesRepeatedMeasurements() {
        try (MemoryReadProbe.Buffer b = MemoryReadProbe.allocate(4 << 20, 2)) {
            for (int i = 0; i < 3; i++) {
                MemoryReadProbe.Result r = MemoryReadProbe.measure(b, 2);
                assertTrue(Double.isFinite(r.bestGbPerS()) && r.bestGbPerS() > 0, "best " + r.bestGbPerS());
                assertTrue(r.medianGbPerS() > 0 && r.medianGbPerS() <= r.bestGbPerS(), r.toString());
                assertEquals(b.bytes(), r.bytes());
                assertEquals(2, r.threads());
                String reader = r.reader();
                assertTrue(MemoryReadProbe.readers().stream().anyMatch(x -> x.name().equals(reader)), reader);
            }
        }
    }

    @Test
    void refusesFewerThanOneThread() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryReadProbe.allocate(1 << 20, 0));
        assertTrue(e.getMessage().contains("at least 1 thread"), e.getMessage());
    }
}
