package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import org.junit.jupiter.api.Test;

/**
 * The state cache evicts least recently used conversation states first and shared prefixes (system text, example
 * turns) only when no other entry is left: several requests finishing after they kept a prefix must not push it out.
 */
class StateCacheEvictionTest {
    @Test
    void sharedPrefixesOutliveConversationStates() {
        try (Model m = Model.load(TestServers.austen(), LoadOptions.defaults().withBackend("reference"))) {
            long size;
            try (var probe = m.newState(1)) {
                size = probe.stateBytes();
            }
            try (StateCache cache = new StateCache(3 * size)) {
                cache.putShared(new int[] {2, 10}, m.newState(1));
                cache.put(new int[] {2, 10, 11}, m.newState(1));
                cache.put(new int[] {2, 10, 12}, m.newState(1));
                cache.put(new int[] {2, 10, 13}, m.newState(1)); // over budget: the oldest unshared goes, not the prefix
                assertEquals(3, cache.size());
                assertEquals(2, cache.longestPrefix(new int[] {2, 10, 14}).key().length, "the shared prefix is kept");
                assertEquals(2, cache.longestPrefix(new int[] {2, 10, 11, 5}).key().length, "{2, 10, 11} was evicted");
                cache.putShared(new int[] {2, 20}, m.newState(1));
                cache.putShared(new int[] {2, 30}, m.newState(1));
                assertEquals(3, cache.size());
                assertTrue(cache.touch(new int[] {2, 10}) && cache.touch(new int[] {2, 20}) && cache.touch(new int[] {2, 30}),
                        "every unshared entry went before any shared one");
                cache.putShared(new int[] {2, 40}, m.newState(1)); // only shared ones left: the least recently used goes
                assertTrue(!cache.touch(new int[] {2, 10}) && cache.touch(new int[] {2, 40}));
                assertEquals(3 * size, cache.bytes());
            }
        }
    }
}
