package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.model.SavedState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code --state-cache-dir} the scheduler keeps the directory up to date while idle, one file per step
 * ({@link StateCache#persistStep}), so that a crash does not lose the whole cache: new entries are written (most
 * recently used first), files of evicted entries removed, an entry re-cached for the same tokens not written again.
 */
class StateCachePersistTest {
    @Test
    void idleStepsWriteNewEntriesAndRemoveEvictedOnes(@TempDir Path dir) throws Exception {
        try (Model m = Model.load(TestServers.austen(), LoadOptions.defaults().withBackend("reference"))) {
            long size = TestServers.stateBytes(m);
            try (StateCache cache = new StateCache(3 * size)) {
                assertFalse(cache.persistPending());
                cache.put(new int[] {2, 10}, fed(m, 2, 10));
                cache.put(new int[] {2, 11}, fed(m, 2, 11));
                assertTrue(cache.persistPending());
                assertTrue(cache.persistStep(dir, m));
                assertEquals(List.of(List.of(2, 11)), tokensOnDisk(dir, m), "the most recently used entry first");
                assertTrue(cache.persistStep(dir, m));
                assertFalse(cache.persistStep(dir, m), "nothing left to do");
                assertFalse(cache.persistPending());
                assertEquals(2, tokensOnDisk(dir, m).size());

                cache.put(new int[] {2, 10}, fed(m, 2, 10)); // the same tokens again: the file stays valid
                assertFalse(cache.persistPending());
                cache.put(new int[] {2, 12}, fed(m, 2, 12));
                cache.put(new int[] {2, 13}, fed(m, 2, 13)); // over budget: {2, 11}, the least recently used, goes
                assertTrue(cache.persistStep(dir, m));
                assertEquals(List.of(List.of(2, 10)), tokensOnDisk(dir, m), "the evicted entry's file is removed first");
                while (cache.persistStep(dir, m)) {
                    // the two new entries
                }
                assertEquals(List.of(List.of(2, 10), List.of(2, 12), List.of(2, 13)), tokensOnDisk(dir, m));
                assertEquals("wrote 4 state files, removed 1", cache.persisted());

                // evicted, then cached again before an idle step removed its file: the file is kept, not rewritten
                cache.put(new int[] {2, 14}, fed(m, 2, 14)); // {2, 10} goes
                cache.put(new int[] {2, 10}, fed(m, 2, 10)); // {2, 12} goes; {2, 10} is back
                while (cache.persistStep(dir, m)) {
                    // remove {2, 12}, write {2, 14}
                }
                assertEquals(List.of(List.of(2, 10), List.of(2, 13), List.of(2, 14)), tokensOnDisk(dir, m));
                assertEquals("wrote 5 state files, removed 2", cache.persisted());

                // what a restarted server reads back is on disk already: nothing to write
                try (StateCache again = new StateCache(3 * size)) {
                    assertEquals(3, again.loadFrom(dir, m).entries());
                    assertFalse(again.persistPending());
                }
            }
        }
    }

    @Test
    void aFileThatCannotBeWrittenIsReportedNotRetried(@TempDir Path dir) throws Exception {
        try (Model m = Model.load(TestServers.austen(), LoadOptions.defaults().withBackend("reference"))) {
            try (StateCache cache = new StateCache(1L << 30)) {
                cache.put(new int[] {2, 10}, fed(m, 2, 10));
                Path notADirectory = Files.writeString(dir.resolve("plain"), "a file where the directory should be");
                assertTrue(cache.persistStep(notADirectory, m));
                assertFalse(cache.persistPending(), "not retried on every idle step");
                assertTrue(cache.persisted().startsWith("wrote 0 state files, removed 0; first problem: "), cache.persisted());
                assertEquals("a file where the directory should be", Files.readString(notADirectory));
            }
        }
    }

    /** A state that has processed {@code ids} (distinct tokens give distinct states, so a mix-up would show). */
    private static ModelState fed(Model m, int... ids) {
        ModelState s = m.newState(1);
        m.griffin().forward(s, ids, ids.length, Outputs.NONE);
        return s;
    }

    private static List<List<Integer>> tokensOnDisk(Path dir, Model m) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".rgstate"))
                    .map(p -> SavedState.read(p, m).tokens())
                    .map(t -> java.util.Arrays.stream(t).boxed().toList())
                    .sorted(java.util.Comparator.comparing(Object::toString)).toList();
        }
    }
}
