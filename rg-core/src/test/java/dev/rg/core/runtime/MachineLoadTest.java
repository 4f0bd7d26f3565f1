package dev.rg.core.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Other work's share of the CPU while a benchmark measured: /proc/stat less this process's own ticks (and its children's). */
class MachineLoadTest {
    /** A /proc/self/stat line with utime, stime, cutime, cstime (fields 14-17) set; the name holds ") (" to mislead. */
    private static String self(long utime, long stime, long cutime, long cstime) {
        return "4242 (java) (x) S 1 4242 4242 0 -1 4194304 100 0 0 0 " + utime + " " + stime + " " + cutime + " " + cstime
                + " 20 0 30 0 12345 1000000 500 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    }

    @Test
    void othersAreTheBusyTicksLessThisProcessAndItsChildrenAndStealIsApart() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        Optional<MachineLoad.Sample> a = MachineLoad.parse("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n",
                self(10, 5, 0, 0));
        Optional<MachineLoad.Sample> b = MachineLoad.parse("cpu  290 10 90 1000 50 5 5 50 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n",
                self(60, 15, 30, 10));
        MachineLoad.Share s = MachineLoad.between(a, b).orElseThrow();
        // busy 250 of 500 ticks; this process 60 and its children 40 of them: others 150 = 30%; steal 50 of 500 = 10%
        assertEquals(30.0, s.othersPercent(), 1e-9);
        assertEquals(10.0, s.stealPercent(), 1e-9);
        assertEquals(20.0, s.ownPercent(), 1e-9);
        assertTrue(s.busy());
        assertEquals("other processes 30% of its CPU, steal 10%", s.describe());
        // a quiet interval: every busy tick was this process's
        Optional<MachineLoad.Sample> c = MachineLoad.parse("cpu  490 10 90 2600 50 5 5 50 0 0\n", self(260, 15, 30, 10));
        MachineLoad.Share quiet = MachineLoad.between(b, c).orElseThrow();
        assertEquals(0.0, quiet.othersPercent(), 1e-9);
        assertFalse(quiet.busy());
    }

    @Test
    void unreadableOrForeignTextGivesNoSample() {
        assertTrue(MachineLoad.parse("", self(1, 1, 0, 0)).isEmpty());
        assertTrue(MachineLoad.parse("cpu  1 2 3\n", self(1, 1, 0, 0)).isEmpty(), "a short cpu line");
        assertTrue(MachineLoad.parse("cpu  1 2 3 4 5 6 7 8 0 0\n", "4242 (java) S 1 2").isEmpty(), "a short self line");
        assertTrue(MachineLoad.parse("cpu  1 2 3 4 5 6 7 8 0 0\n", "no parenthesis").isEmpty());
        Optional<MachineLoad.Sample> x = MachineLoad.parse("cpu  1 2 3 4 5 6 7 8 0 0\n", self(1, 1, 0, 0));
        assertTrue(MachineLoad.between(Optional.empty(), x).isEmpty());
        assertTrue(MachineLoad.between(x, x).isEmpty(), "no tick between the samples");
    }

    @Test
    void thisMachineIsSampled() {
        assumeTrue(Files.isReadable(Path.of("/proc/stat")) && Files.isReadable(Path.of("/proc/self/stat")), "Linux only");
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
        assertTrue(a.get().ownTicks() > 0, "this JVM has used CPU");
    }
}
