package dev.rg.core.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.api.backend.Availability;
import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.api.backend.BackendProvider;
import dev.rg.api.backend.Capabilities;
import dev.rg.api.backend.DeviceClass;
import dev.rg.core.runtime.BackendRegistry.Entry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Automatic selection: device class tier before priority, with fake providers (no backend module needed). */
class BackendSelectionTest {
    private record Fake(String name, int priority, Availability availability) implements BackendProvider {
        @Override
        public String description() {
            return "fake " + name;
        }

        @Override
        public Availability probe() {
            return availability;
        }

        @Override
        public Capabilities capabilities() {
            return new Capabilities(Set.of(), Set.of());
        }

        @Override
        public Backend create(BackendOptions options) {
            throw new UnsupportedOperationException("fake provider " + name);
        }
    }

    private static Entry entry(String name, int priority, Availability a) {
        return new Entry(name, new Fake(name, priority, a), a);
    }

    /** The entries in a random order, sorted as discover() sorts them. */
    private static List<Entry> discovered(Random random, Entry... entries) {
        List<Entry> out = new ArrayList<>(List.of(entries));
        Collections.shuffle(out, random);
        out.sort(BackendRegistry.SELECTION_ORDER);
        return out;
    }

    private static String auto(List<Entry> entries) {
        return BackendRegistry.auto(entries).map(Entry::name).orElse("(none)");
    }

    @Test
    void aDeviceBackendOnACpuRanksBelowTheHostBackends() {
        Random random = new Random(17);
        for (int i = 0; i < 20; i++) {
            Entry reference = entry("reference", 0, Availability.available("java"));
            Entry vector = entry("vector", 100, Availability.available("simd"));
            Entry tornado = entry("tornado", 200, Availability.available("pocl", DeviceClass.CPU));
            List<Entry> all = discovered(random, reference, vector, tornado);
            assertEquals("vector", auto(all));
            assertEquals(List.of("vector", "reference", "tornado"), all.stream().map(Entry::name).toList());
            String note = BackendRegistry.rankingNote(tornado, all).orElseThrow();
            assertTrue(note.contains("CPU") && note.contains("vector") && note.contains("reference"), note);
            assertTrue(BackendRegistry.rankingNote(vector, all).isEmpty());
        }
    }

    @Test
    void onAGpuMachineTheHigherPriorityGpuBackendWins() {
        Random random = new Random(11);
        for (int i = 0; i < 20; i++) {
            List<Entry> all = discovered(random, entry("vector", 100, Availability.available("simd")),
                    entry("tornado", 200, Availability.available("opencl gpu", DeviceClass.GPU)),
                    entry("cuda", 300, Availability.available("sm_90", DeviceClass.GPU)));
            assertEquals("cuda", auto(all));
            List<Entry> noCuda = discovered(random, entry("vector", 100, Availability.available("simd")),
                    entry("tornado", 200, Availability.available("opencl gpu", DeviceClass.GPU)),
                    entry("cuda", 300, Availability.unavailable("no libcuda.so.1")));
            assertEquals("tornado", auto(noCuda));
            assertEquals("cuda", noCuda.getLast().name(), "unavailable providers are listed last");
        }
    }

    @Test
    void aGpuBackendOfLowPriorityStillOutranksTheHost() {
        List<Entry> all = discovered(new Random(3), entry("vector", 100, Availability.available("simd")),
                entry("thirdparty", 50, Availability.available("npu", DeviceClass.ACCELERATOR)));
        assertEquals("thirdparty", auto(all));
    }

    @Test
    void aCpuDeviceBackendIsPickedWhenNothingElseRuns() {
        List<Entry> all = discovered(new Random(5), entry("vector", 100, Availability.unavailable("no jdk.incubator.vector")),
                entry("tornado", 200, Availability.available("pocl", DeviceClass.CPU)));
        assertEquals("tornado", auto(all));
        assertTrue(BackendRegistry.rankingNote(all.getFirst(), all).isEmpty());
        assertEquals("(none)", auto(discovered(new Random(7), entry("x", 1, Availability.unavailable("no")))));
    }

    @Test
    void providersThatDoNotSayRunOnTheHost() {
        assertEquals(DeviceClass.HOST, new Availability(true, "old-style provider").device());
        assertEquals(DeviceClass.HOST, Availability.available("x").device());
    }
}
