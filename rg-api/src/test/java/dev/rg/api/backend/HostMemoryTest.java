package dev.rg.api.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code MemAvailable} read from {@code /proc/meminfo} text: bytes, or -1 for anything else. */
class HostMemoryTest {
    @Test
    void readsMemAvailableInBytesAndNothingElse() {
        String meminfo = "MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   20971520 kB\nBuffers: 1 kB\n";
        assertEquals(20971520L * 1024, HostMemory.parseMemAvailable(meminfo));
        assertEquals(-1, HostMemory.parseMemAvailable("MemTotal: 1 kB\nMemFree: 1 kB\n"), "no such line (an old kernel)");
        assertEquals(-1, HostMemory.parseMemAvailable("MemAvailable: lots kB\n"));
        assertEquals(-1, HostMemory.parseMemAvailable("MemAvailable: 12 MB\n"));
        assertEquals(-1, HostMemory.parseMemAvailable("MemAvailable: -5 kB\n"));
        assertEquals(-1, HostMemory.parseMemAvailable("MemAvailable: 99999999999999999999 kB\n"));
        long here = HostMemory.availableBytes();
        assertTrue(here == -1 || here > 0, "this machine's MemAvailable: " + here);
    }
}
