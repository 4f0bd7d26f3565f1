package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import org.junit.jupiter.api.Test;

/**
 * The state cache evicts least recently used conversation states before shared prefixes (system text, example turns):
 * several requests finishing after they kept a prefix must not push it out. Shared prefixes keep at most half the
 * budget once it is full, so conversations keep the other half.
 */
class StateCacheEvictionTest {
    private static boolean kept(StateCache cache, int... key) {
        return cache.touch(key);
    }

    @Test
    void sharedPrefixesOutliveConversationStatesWithinHalfTheBudget() {
        try (Model m = Model.load(TestServers.austen(), LoadOptions.defaults().withBackend("reference"))) {
            long size = TestServers.stateBytes(m);
            try (StateCache cache = new StateCache(4 * size)) {
                cache.putShared(new int[] {2, 10}, m.newState(1));
                cache.put(new int[] {2, 10, 11}, m.newState(1));
                cache.put(new int[] {2, 10, 12}, m.newState(1));
                cache.put(new int[] {2, 10, 13}, m.newState(1));
                cache.put(new int[] {2, 10, 14}, m.newState(1)); // over budget: the oldest conversation goes, not the prefix
                assertTrue(kept(cache, 2, 10) && !kept(cache, 2, 10, 11) && kept(cache, 2, 10, 12));
                assertEquals(2, cache.longestPrefix(new int[] {2, 10, 11, 5}).key().length, "resumes from the prefix");

                cache.putShared(new int[] {2, 20}, m.newState(1)); // two shared = half: a conversation goes
                assertTrue(kept(cache, 2, 10) && kept(cache, 2, 20) && !kept(cache, 2, 10, 13));
                assertEquals(4, cache.size());
                // a third shared prefix would be more than half: the least recently used shared one goes
                cache.putShared(new int[] {2, 30}, m.newState(1));
                assertTrue(!kept(cache, 2, 10) && kept(cache, 2, 20) && kept(cache, 2, 30));
                assertTrue(kept(cache, 2, 10, 12) && kept(cache, 2, 10, 14), "conversations keep half the budget");
                assertEquals(4 * size, cache.bytes());
            }
        }
    }
}
