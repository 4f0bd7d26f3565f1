package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
 * {@code --step-prefill}: prompts that arrive while others decode are fed through the decode steps, one token per step,
 * instead of prefill rounds between the steps. An endless greedy stream keeps the decoder busy for the whole test (it
 * needs a million steps to end, and its client leaves at the end), so every later prompt takes that path, which
 * {@code rg_step_prefill_tokens_total} confirms token for token. The texts and usage are those each request gets alone
 * on a server that prefills in rounds.
 */
class StepPrefillTest {
    @Test
    void promptsFedThroughDecodeStepsGetExactlyTheirTextAlone() throws Exception {
        List<CompletionCreateParams> requests = TestServers.randomGreedyRequests(new Random(2026), 7, 16, 2);
        List<Completion> alone = new ArrayList<>();
        try (RgServer s = TestServers.start(TestServers.options().withStateCacheBytes(0))) {
            OpenAIClient c = TestServers.client(s);
            for (CompletionCreateParams r : requests) {
                alone.add(c.completions().create(r));
            }
            c.close();
        }
        // 4 slots: the endless stream and 3 more, so the 7 requests also queue and join slots that others free
        try (RgServer s = TestServers.start(TestServers.options().withLimits(4, 64).withStateCacheBytes(0).withStepPrefill(64))) {
            OpenAIClient c = TestServers.client(s);
            long promptTokens;
            try (StreamResponse<Completion> busy = TestServers.endless(c)) {
                promptTokens = TestServers.sendAtOnceAndCompare(c, requests, alone, "through steps");
            }
            String m = TestServers.metrics(s);
            assertEquals(promptTokens, TestServers.metric(m, "rg_step_prefill_tokens_total"), "every prompt went through steps\n" + m);
            assertTrue(TestServers.metric(m, "rg_batch_size_max") >= 2, m);
            c.close();
        }
    }

    @Test
    void aChatResumedFromTheCacheThroughStepsKeepsItsTextAndCachedTokens() throws Exception {
        List<ChatCompletion> without;
        try (RgServer s = TestServers.start(TestServers.options().withStateCacheBytes(0))) {
            OpenAIClient c = TestServers.client(s);
            without = TestServers.converse(c);
            c.close();
        }
        try (RgServer s = TestServers.start(TestServers.options().withStepPrefill(64))) {
            OpenAIClient c = TestServers.client(s);
            List<ChatCompletion> with;
            try (StreamResponse<Completion> busy = TestServers.endless(c)) {
                with = TestServers.converse(c);
            }
            long fed = 0;
            for (int i = 0; i < TestServers.TURNS.length; i++) {
                assertEquals(without.get(i).choices().getFirst().message().content(), with.get(i).choices().getFirst().message().content(),
                        "turn " + i);
                CompletionUsage u = with.get(i).usage().orElseThrow();
                long cached = u.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow();
                if (i > 0) {
                    CompletionUsage prev = with.get(i - 1).usage().orElseThrow();
                    assertEquals(prev.promptTokens() + prev.completionTokens() - 1, cached, "turn " + i + " resumed");
                }
                fed += u.promptTokens() - cached;
            }
            String m = TestServers.metrics(s);
            assertEquals(fed, TestServers.metric(m, "rg_step_prefill_tokens_total"), "the new tokens of every turn went through steps\n" + m);
            c.close();
        }
    }

    @Test
    void theLimitIsChecked() {
        var e = assertThrows(IllegalArgumentException.class, () -> TestServers.options().withStepPrefill(-1));
        assertTrue(e.getMessage().startsWith("--step-prefill must be in [0, 65536]"), e.getMessage());
    }
}
