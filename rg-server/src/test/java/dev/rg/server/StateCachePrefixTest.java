package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link StateCache#longestPrefix} looks up one hashed prefix per key length held instead of comparing the prompt with
 * every entry: it must find exactly the entry a comparison with every entry finds, through puts, replacements and
 * evictions, and count it as used as before.
 */
class StateCachePrefixTest {
    @Test
    void findsTheLongestKeptPrefixAsAFullScanWould() {
        try (Model m = Model.load(TestServers.austen(), LoadOptions.defaults().withBackend("reference"))) {
            long size = TestServers.stateBytes(m);
            Random random = new Random(20261207);
            // a small alphabet and short keys, so that prompts often extend kept keys and keys often share prefixes
            try (StateCache cache = new StateCache(12 * size)) {
                List<int[]> keys = new ArrayList<>();
                int hits = 0;
                for (int step = 0; step < 600; step++) {
                    if (random.nextInt(3) == 0 || keys.isEmpty()) {
                        int[] key = randomIds(random, 1 + random.nextInt(6));
                        cache.put(key, m.newState(1));
                        keys.add(key);
                    }
                    int[] prompt = randomIds(random, 1 + random.nextInt(9));
                    int[] expected = null;
                    for (int[] k : keys) { // what every kept entry, compared one by one, gives
                        if (k.length < prompt.length && (expected == null || k.length > expected.length)
                                && Arrays.equals(k, 0, k.length, prompt, 0, k.length) && cache.holds(k, k.length)) {
                            expected = k;
                        }
                    }
                    StateCache.Entry found = cache.longestPrefix(prompt);
                    if (expected == null) {
                        assertNull(found, () -> "no kept key is a proper prefix of " + Arrays.toString(prompt));
                    } else {
                        assertArrayEquals(expected, found.key(), () -> "prompt " + Arrays.toString(prompt));
                        hits++;
                    }
                    keys.removeIf(k -> !cache.holds(k, k.length)); // evicted
                }
                assertTrue(hits > 50, "the walk resumed from a kept prefix " + hits + " times");
                assertEquals(12, cache.size(), "the budget held twelve states once full");
            }
        }
    }

    @Test
    void aFoundPrefixCountsAsUsed() {
        try (Model m = Model.load(TestServers.austen(), LoadOptions.defaults().withBackend("reference"))) {
            long size = TestServers.stateBytes(m);
            try (StateCache cache = new StateCache(2 * size)) {
                cache.put(new int[] {2, 7}, m.newState(1));
                cache.put(new int[] {2, 8}, m.newState(1));
                assertArrayEquals(new int[] {2, 7}, cache.longestPrefix(new int[] {2, 7, 9}).key());
                cache.put(new int[] {2, 9}, m.newState(1)); // evicts the least recently used: {2, 8}
                assertTrue(cache.holds(new int[] {2, 7}, 2) && !cache.holds(new int[] {2, 8}, 2));
                assertNull(cache.longestPrefix(new int[] {2, 8, 1}));
                assertNull(cache.longestPrefix(new int[] {2, 7}), "a key equal to the prompt leaves nothing to feed");
            }
        }
    }

    private static int[] randomIds(Random random, int length) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = 2 + random.nextInt(3);
        }
        return ids;
    }
}
