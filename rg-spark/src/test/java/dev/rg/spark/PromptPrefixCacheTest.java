package dev.rg.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.PromptPrefix;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** An executor's kept prompt prefixes: built once per text, and never more than the bound, even when tasks start together. */
class PromptPrefixCacheTest {
    private static final RecurrentGemma RG = ModelCache.get(GenerateSpec.of(LocalSpark.model().toString()).withBackend("reference", 1));

    /** Runs {@code texts.size()} first uses at once, one thread each; the results in order. */
    private static List<PromptPrefix> atOnce(PromptPrefixCache cache, List<String> texts) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(texts.size());
        try {
            CyclicBarrier start = new CyclicBarrier(texts.size());
            List<Future<PromptPrefix>> futures = new ArrayList<>();
            for (String t : texts) {
                futures.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    return cache.get(RG, t);
                }));
            }
            List<PromptPrefix> out = new ArrayList<>();
            for (Future<PromptPrefix> f : futures) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void tasksStartingTogetherNeverKeepMoreThanTheBound() throws Exception {
        int max = 4;
        // every build waits (up to 10 s) until `max` builds are under way at once: the moment a size check made before
        // the build would let more in
        CountDownLatch building = new CountDownLatch(max);
        BiFunction<RecurrentGemma, String, PromptPrefix> slow = (rg, text) -> {
            building.countDown();
            try {
                building.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ModelCache.build(rg, text);
        };
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            texts.add("Chapter " + i + "\n\nMr. Bennet");
        }
        try (PromptPrefixCache cache = new PromptPrefixCache(max, slow)) {
            List<PromptPrefix> got = atOnce(cache, texts);
            List<String> keptTexts = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                if (got.get(i) != null) {
                    keptTexts.add(texts.get(i));
                }
            }
            assertEquals(max, keptTexts.size(), "prefixes handed out as kept");
            assertEquals(max, cache.size());
            assertEquals(max, cache.builds());
            for (int i = 0; i < texts.size(); i++) {
                if (got.get(i) != null) {
                    assertSame(got.get(i), cache.get(RG, texts.get(i)), "a kept prefix is shared");
                }
            }
            assertNull(cache.get(RG, "Emma"), "full: the caller builds its own");
            assertEquals(max, cache.builds());
        }
    }

    @Test
    void oneTextIsBuiltOnceForEveryoneWhoAsksAtOnce() throws Exception {
        try (PromptPrefixCache cache = new PromptPrefixCache(2, ModelCache::build)) {
            List<PromptPrefix> got = atOnce(cache, List.of("It was", "It was", "It was", "It was", "It was", "It was"));
            assertEquals(1, Set.copyOf(got).size());
            assertNotNull(got.get(0));
            assertEquals(1, cache.builds());
            assertEquals(got.get(0).length(), 1 + RG.tokenize("It was").length, "BOS and the text's tokens");
        }
    }

    @Test
    void aPrefixThatFailsToBuildKeepsNoSlot() {
        BiFunction<RecurrentGemma, String, PromptPrefix> failsOnBad = (rg, text) -> {
            if (text.equals("bad")) {
                throw new IllegalArgumentException("cannot process " + text);
            }
            return ModelCache.build(rg, text);
        };
        try (PromptPrefixCache cache = new PromptPrefixCache(1, failsOnBad)) {
            assertThrows(IllegalArgumentException.class, () -> cache.get(RG, "bad"));
            assertEquals(0, cache.size());
            PromptPrefix good = cache.get(RG, "good");
            assertNotNull(good, "the failed build gave its slot back");
            assertNull(cache.get(RG, "other"));
            cache.close();
            assertEquals(0, cache.size());
            assertNotNull(cache.get(RG, "other"), "closing frees every slot");
        }
    }

    @Test
    void refusesANegativeBound() {
        assertThrows(IllegalArgumentException.class, () -> new PromptPrefixCache(-1, ModelCache::build));
    }
}
