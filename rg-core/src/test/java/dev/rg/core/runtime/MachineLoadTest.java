package dev.rg.core.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Other work's share of the CPU while a benchmark measured, from /proc/stat less this process's own CPU time. */
class MachineLoadTest {
    private static final String CPUS = "cpu0 1 2 3 4 5 6 7 8 0 0\ncpu1 1 2 3 4 5 6 7 8 0 0\nintr 12 0 0\n";

    @Test
    void othersAreTheBusyTimeLessThisProcessAndStealIsApart() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        Optional<MachineLoad.Sample> a = MachineLoad.parse("cpu  100 0 50 800 50 0 0 0 0 0\n" + CPUS, 0, 0);
        Optional<MachineLoad.Sample> b = MachineLoad.parse("cpu  290 10 90 1000 50 5 5 50 0 0\n" + CPUS, 400_000_000L,
                1_000_000_000L);
        MachineLoad.Share s = MachineLoad.between(a, b).orElseThrow();
        // busy 250 of 500 ticks = 50%; this process 0.4 s of 2 CPUs x 1 s = 20%; steal 50 of 500 = 10%
        assertEquals(30.0, s.othersPercent(), 1e-9);
        assertEquals(10.0, s.stealPercent(), 1e-9);
        assertTrue(s.busy());
        // a quiet machine: only this process ran
        Optional<MachineLoad.Sample> c = MachineLoad.parse("cpu  490 10 90 2600 50 5 5 50 0 0\n" + CPUS, 2_000_000_000L,
                2_000_000_000L);
        MachineLoad.Share quiet = MachineLoad.between(b, c).orElseThrow();
        assertEquals(0.0, quiet.othersPercent(), 1e-9);
        assertFalse(quiet.busy());
    }

    @Test
    void unreadableOrForeignTextGivesNoSample() {
        assertTrue(MachineLoad.parse("", 0, 0).isEmpty());
        assertTrue(MachineLoad.parse("cpu  1 2 3\n" + CPUS, 0, 0).isEmpty(), "a short cpu line");
        assertTrue(MachineLoad.parse("cpu  1 2 3 4 5 6 7 8 0 0\nintr 1\n", 0, 0).isEmpty(), "no cpuN lines");
        assertTrue(MachineLoad.between(Optional.empty(), MachineLoad.parse("cpu  1 2 3 4 5 6 7 8 0 0\n" + CPUS, 0, 0))
                .isEmpty());
        Optional<MachineLoad.Sample> x = MachineLoad.parse("cpu  1 2 3 4 5 6 7 8 0 0\n" + CPUS, 0, 5);
        assertTrue(MachineLoad.between(x, x).isEmpty(), "no tick between the samples");
    }

    @Test
    void thisMachineIsSampled() {
        assumeTrue(Files.isReadable(Path.of("/proc/stat")), "Linux only");
        Optional<MachineLoad.Sample> a = MachineLoad.sample();
        assertTrue(a.isPresent());
        long spin = System.nanoTime() + 200_000_000L;
        double sink = 0;
        while (System.nanoTime() < spin) {
            sink += Math.sqrt(sink + 1); // keep a CPU busy for 0.2 s, so that ticks pass
        }
        Optional<MachineLoad.Share> s = MachineLoad.between(a, MachineLoad.sample());
        assertTrue(sink > 0 && s.isPresent());
        assertTrue(s.get().othersPercent() >= 0 && s.get().othersPercent() <= 100, s.get().toString());
    }
}
