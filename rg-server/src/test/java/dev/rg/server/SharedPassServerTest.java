package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Shared passes (the default): prompts that arrive while others decode are prefilled in the same forward passes as
 * the decode steps. An endless greedy stream keeps the decoder busy for the whole test, so every prefill round of a
 * later prompt is a shared pass, which the metrics confirm round for round; the texts and usage are those each
 * request gets alone, and a chat resumed from the state cache that way keeps its text. With
 * {@code --no-shared-passes} the same load runs no shared pass.
 */
class SharedPassServerTest {
    private static final String[] TURNS = {"Who is Mr. Darcy?", "And Elizabeth?", "Where do they live?"};

    private static OpenAIClient client(RgServer s) {
        return OpenAIOkHttpClient.builder().baseUrl(TestServers.base(s) + "/v1").apiKey("unused").maxRetries(0).build();
    }

    /** A greedy stream that ends after a million tokens: while it is open, somebody is always decoding. */
    private static StreamResponse<Completion> endless(OpenAIClient c) {
        StreamResponse<Completion> stream = c.completions().createStreaming(CompletionCreateParams.builder()
                .model(TestServers.MODEL).prompt("It is a truth").maxTokens(1_000_000).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        Iterator<Completion> it = stream.stream().iterator();
        assertTrue(it.hasNext(), "the endless stream started");
        it.next();
        return stream;
    }

    @Test
    void promptsPrefilledInTheDecodePassesGetExactlyTheirTextAlone() throws Exception {
        List<CompletionCreateParams> requests = TestServers.randomGreedyRequests(new Random(4711), 7, 16, 2);
        List<Completion> alone = new ArrayList<>();
        try (RgServer s = TestServers.start(TestServers.options().withStateCacheBytes(0))) {
            OpenAIClient c = client(s);
            for (CompletionCreateParams r : requests) {
                alone.add(c.completions().create(r));
            }
            c.close();
        }
        for (boolean shared : new boolean[] {true, false}) {
            // 4 slots: the endless stream and 3 more, so the 7 requests also queue and join slots that others free
            try (RgServer s = TestServers.start(TestServers.options().withLimits(4, 64).withStateCacheBytes(0)
                    .withSharedPasses(shared))) {
                OpenAIClient c = client(s);
                ExecutorService pool = Executors.newFixedThreadPool(requests.size());
                double roundsBefore;
                try (StreamResponse<Completion> busy = endless(c)) {
                    roundsBefore = TestServers.metric(TestServers.metrics(s), "rg_prefill_batch_rows_count");
                    CountDownLatch go = new CountDownLatch(1);
                    List<Future<Completion>> fs = new ArrayList<>();
                    for (CompletionCreateParams r : requests) {
                        fs.add(pool.submit(() -> {
                            go.await();
                            return c.completions().create(r);
                        }));
                    }
                    go.countDown();
                    for (int i = 0; i < requests.size(); i++) {
                        Completion got = fs.get(i).get(2, TimeUnit.MINUTES);
                        String what = (shared ? "shared" : "apart") + ", request " + i;
                        assertEquals(alone.get(i).choices().getFirst().text(), got.choices().getFirst().text(), what);
                        assertEquals(alone.get(i).usage().orElseThrow().promptTokens(), got.usage().orElseThrow().promptTokens(), what);
                        assertEquals(alone.get(i).usage().orElseThrow().completionTokens(), got.usage().orElseThrow().completionTokens(), what);
                    }
                } finally {
                    pool.shutdownNow();
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
            OpenAIClient c = client(s);
            without = converse(c);
            c.close();
        }
        try (RgServer s = TestServers.start(TestServers.options())) {
            OpenAIClient c = client(s);
            List<ChatCompletion> with;
            try (StreamResponse<Completion> busy = endless(c)) {
                with = converse(c);
            }
            for (int i = 0; i < TURNS.length; i++) {
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
            assertTrue(TestServers.metric(m, "rg_shared_passes_total") >= TURNS.length, m);
            c.close();
        }
    }

    private static List<ChatCompletion> converse(OpenAIClient c) {
        List<ChatCompletion> out = new ArrayList<>();
        ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                .maxCompletionTokens(12).temperature(0.0);
        for (String user : TURNS) {
            p.addUserMessage(user);
            ChatCompletion r = c.chat().completions().create(p.build());
            out.add(r);
            p.addAssistantMessage(r.choices().getFirst().message().content().orElseThrow());
        }
        return out;
    }
}
