package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Shared passes (the default): prompts that arrive while others decode are prefilled in the same forward passes as
 * the decode steps. An endless greedy stream keeps the decoder busy for the whole test, so every prefill round of a
 * later prompt is a shared pass, which the metrics confirm round for round; the texts and usage are those each
 * request gets alone, and a chat resumed from the state cache that way keeps its text. With
 * {@code --no-shared-passes} the same load runs no shared pass.
 */
class SharedPassServerTest {
    @Test
    void promptsPrefilledInTheDecodePassesGetExactlyTheirTextAlone() throws Exception {
        List<CompletionCreateParams> requests = TestServers.randomGreedyRequests(new Random(4711), 7, 16, 2);
        List<Completion> alone = new ArrayList<>();
        try (RgServer s = TestServers.start(TestServers.options().withStateCacheBytes(0))) {
            OpenAIClient c = TestServers.client(s);
            for (CompletionCreateParams r : requests) {
                alone.add(c.completions().create(r));
            }
            c.close();
        }
        for (boolean shared : new boolean[] {true, false}) {
            // 4 slots: the endless stream and 3 more, so the 7 requests also queue and join slots that others free
            try (RgServer s = TestServers.start(TestServers.options().withLimits(4, 64).withStateCacheBytes(0)
                    .withSharedPasses(shared))) {
                OpenAIClient c = TestServers.client(s);
                double roundsBefore;
                try (StreamResponse<Completion> busy = TestServers.endless(c)) {
                    roundsBefore = TestServers.metric(TestServers.metrics(s), "rg_prefill_batch_rows_count");
                    TestServers.sendAtOnceAndCompare(c, requests, alone, shared ? "shared" : "apart");
                }
                String m = TestServers.metrics(s);
                double rounds = TestServers.metric(m, "rg_prefill_batch_rows_count") - roundsBefore;
                double sharedPasses = TestServers.metric(m, "rg_shared_passes_total");
                assertTrue(rounds >= 1, m);
                // every round after the endless stream's own ran beside its decode step, or none did
                assertEquals(shared ? rounds : 0, sharedPasses, "rounds " + rounds + "\n" + m);
                c.close();
            }
        }
    }

    @Test
    void aChatResumedFromTheCacheInSharedPassesKeepsItsTextAndCachedTokens() throws Exception {
        List<ChatCompletion> without;
        try (RgServer s = TestServers.start(TestServers.options().withStateCacheBytes(0))) {
            OpenAIClient c = TestServers.client(s);
            without = TestServers.converse(c);
            c.close();
        }
        try (RgServer s = TestServers.start(TestServers.options())) {
            OpenAIClient c = TestServers.client(s);
            List<ChatCompletion> with;
            try (StreamResponse<Completion> busy = TestServers.endless(c)) {
                with = TestServers.converse(c);
            }
            for (int i = 0; i < TestServers.TURNS.length; i++) {
                assertEquals(without.get(i).choices().getFirst().message().content(), with.get(i).choices().getFirst().message().content(),
                        "turn " + i);
                if (i > 0) {
                    CompletionUsage u = with.get(i).usage().orElseThrow();
                    CompletionUsage prev = with.get(i - 1).usage().orElseThrow();
                    assertEquals(prev.promptTokens() + prev.completionTokens() - 1,
                            u.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow(), "turn " + i + " resumed");
                }
            }
            String m = TestServers.metrics(s);
            assertTrue(TestServers.metric(m, "rg_shared_passes_total") >= TestServers.TURNS.length, m);
            c.close();
        }
    }
}
