package dev.rg.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rg.core.TestFiles;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching of a prompt stream: every result equals the same prompt and seed generated alone (a one-prompt
 * {@link BatchGenerator}; reference backend: rows of a step do not depend on each other), while rows join and leave at
 * different steps. (Session-independent anchors: {@code BatchStopStringsTest} and {@code AustenGoldenTest}.)
 */
class ContinuousGeneratorTest {
    private static final List<String> TEXTS = List.of("It is a truth", "Emma", "Mr. Darcy said", "She", "The family of Dashwood",
            "He was", "Her mother", "It was a");

    private static ContinuousGenerator.Source source(List<ContinuousGenerator.Job> jobs) {
        return new ContinuousGenerator.Source() {
            int next;

            @Override
            public ContinuousGenerator.Job next() {
                return next < jobs.size() ? jobs.get(next++) : null;
            }

            @Override
            public boolean exhausted() {
                return next == jobs.size();
            }
        };
    }

    @Test
    void everyRowIsTheBatchGeneratorsRowForItsPromptAndSeed() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            List<GenerationConfig> configs = List.of(
                    // sampled through the device top-k path, stop strings that end rows at different steps
                    new GenerationConfig(24, new SamplingParams(1.0f, 40, 1f, 0, 1, 0), List.of(".", " her"), Set.of(), true),
                    // the whole row on the host, with a repetition penalty; EOS ignored so that rows run to the budget
                    new GenerationConfig(9, new SamplingParams(0.8f, 0, 0.9f, 0, 1.3f, 0), List.of(), Set.of(), false),
                    // JSON mode, greedy
                    new GenerationConfig(12, SamplingParams.greedy(), List.of(), Set.of(), true).withJson(true));
            for (GenerationConfig cfg : configs) {
                List<ContinuousGenerator.Job> jobs = new ArrayList<>();
                for (int i = 0; i < TEXTS.size(); i++) {
                    jobs.add(new ContinuousGenerator.Job(100 + i, TestPrompts.withBos(m, tok, TEXTS.get(i)), 7_000 + 31L * i));
                }
                Map<Long, GenerationResult> got = new TreeMap<>();
                List<Long> order = new ArrayList<>();
                assertTrue(new ContinuousGenerator(m, tok).run(source(jobs), cfg, 3, (index, r) -> {
                    order.add(index);
                    return got.put(index, r) == null;
                }));
                assertEquals(TEXTS.size(), got.size());
                for (ContinuousGenerator.Job job : jobs) {
                    GenerationResult alone = new BatchGenerator(m, tok).generate(List.of(job.ids()), cfg, new long[] {job.seed()}).get(0);
                    GenerationResult r = got.get(job.index());
                    assertArrayEquals(alone.tokens(), r.tokens(), "prompt " + job.index() + " with " + cfg);
                    assertEquals(alone.text(), r.text());
                    assertEquals(alone.reason(), r.reason());
                    assertEquals(job.ids().length, r.promptTokens());
                }
                if (cfg.stopStrings().size() == 2) {
                    assertFalse(order.equals(List.copyOf(new TreeMap<>(got).keySet())),
                            "rows of different lengths finish out of order: " + order);
                }
            }
        }
    }

    @Test
    void rowsAfterASharedPromptPrefixAreTheBatchGeneratorsRowsWithThatPrefix() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"));
                PromptPrefix prefix = PromptPrefix.of(m, TestPrompts.withBos(m, GemmaTokenizer.load(TestFiles.austen()),
                        "Chapter 1\n\nIt is a truth universally acknowledged.\n"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            GenerationConfig cfg = new GenerationConfig(10, new SamplingParams(0.9f, 0, 1f, 0, 1.2f, 0), List.of(), Set.of(), true);
            List<ContinuousGenerator.Job> jobs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                jobs.add(new ContinuousGenerator.Job(i, tok.encode(TEXTS.get(i)), 500 + i, prefix));
            }
            Map<Long, GenerationResult> got = new TreeMap<>();
            new ContinuousGenerator(m, tok).run(source(jobs), cfg, 2, (index, r) -> got.put(index, r) == null);
            for (ContinuousGenerator.Job job : jobs) {
                GenerationResult alone = new BatchGenerator(m, tok).generate(List.of(job.ids()), cfg, new long[] {job.seed()}, prefix)
                        .get(0);
                assertArrayEquals(alone.tokens(), got.get(job.index()).tokens(), "row " + job.index());
                assertEquals(alone.promptTokens(), got.get(job.index()).promptTokens(), "the prefix counts");
            }
        }
    }

    @Test
    void aSinkThatSaysStopEndsTheRunAndAStalledSourceIsAnError() {
        try (Model m = Model.load(TestFiles.austen(), LoadOptions.defaults().withBackend("reference"))) {
            GemmaTokenizer tok = GemmaTokenizer.load(TestFiles.austen());
            GenerationConfig cfg = GenerationConfig.greedy(5);
            List<ContinuousGenerator.Job> jobs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                jobs.add(new ContinuousGenerator.Job(i, TestPrompts.withBos(m, tok, TEXTS.get(i)), 0));
            }
            int[] results = {0};
            assertFalse(new ContinuousGenerator(m, tok).run(source(jobs), cfg, 2, (index, r) -> ++results[0] < 2));
            assertEquals(2, results[0]);
            ContinuousGenerator.Source stalled = new ContinuousGenerator.Source() {
                @Override
                public ContinuousGenerator.Job next() {
                    return null;
                }

                @Override
                public boolean exhausted() {
                    return false;
                }
            };
            assertThrows(IllegalStateException.class, () -> new ContinuousGenerator(m, tok).run(stalled, cfg, 2, (i, r) -> true));
        }
    }
}
