package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** rg serve through the official OpenAI Java SDK: chat and text completions, streaming or not, and many clients at once. */
class OpenAiSdkTest {
    private static RgServer server;
    private static OpenAIClient client;
    private static GemmaTokenizer tokenizer;

    @BeforeAll
    static void start() {
        server = TestServers.start(TestServers.options());
        client = OpenAIOkHttpClient.builder().baseUrl(TestServers.base(server) + "/v1").apiKey("unused").maxRetries(0).build();
        tokenizer = GemmaTokenizer.load(TestServers.austen());
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String user, int maxTokens) {
        return ChatCompletionCreateParams.builder().model(TestServers.MODEL).addUserMessage(user)
                .maxCompletionTokens(maxTokens).temperature(0.0);
    }

    private static CompletionCreateParams.Builder text(String prompt, int maxTokens) {
        return CompletionCreateParams.builder().model(TestServers.MODEL).prompt(prompt).maxTokens(maxTokens).temperature(0.0);
    }

    @Test
    void chatCompletionStreamedOrNotGivesTheSameTextAndCountsTokens() {
        ChatCompletionCreateParams p = chat("Tell me about Mr. Darcy.", 24).build();
        ChatCompletion c = client.chat().completions().create(p);
        String whole = c.choices().getFirst().message().content().orElseThrow();
        var usage = c.usage().orElseThrow();
        int promptTokens = new ChatTemplate(tokenizer).encode(List.of(ChatTemplate.Message.user("Tell me about Mr. Darcy.")), true).length;
        assertEquals(promptTokens, usage.promptTokens(), "prompt tokens = the Gemma chat template's ids");
        assertTrue(usage.completionTokens() >= 1 && usage.completionTokens() <= 24);
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
        String reason = c.choices().getFirst().finishReason().asString();
        assertTrue(reason.equals("stop") || reason.equals("length"), reason);
        assertEquals(reason.equals("length"), usage.completionTokens() == 24);

        StringBuilder streamed = new StringBuilder();
        List<String> reasons = new ArrayList<>();
        long[] streamedUsage = {-1, -1};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunk -> {
                for (var choice : chunk.choices()) {
                    choice.delta().content().ifPresent(streamed::append);
                    choice.finishReason().ifPresent(r -> reasons.add(r.asString()));
                }
                chunk.usage().ifPresent(u -> {
                    streamedUsage[0] = u.promptTokens();
                    streamedUsage[1] = u.completionTokens();
                });
            });
        }
        assertEquals(whole, streamed.toString(), "streamed text = whole text (greedy)");
        assertEquals(List.of(reason), reasons);
        assertEquals(usage.promptTokens(), streamedUsage[0]);
        assertEquals(usage.completionTokens(), streamedUsage[1]);
    }

    @Test
    void textCompletionHonoursMaxTokensAndStopStrings() {
        Completion c = client.completions().create(text("It is a truth universally acknowledged", 20).build());
        String full = c.choices().getFirst().text();
        assertEquals("length", c.choices().getFirst().finishReason().asString());
        assertEquals(20, c.usage().orElseThrow().completionTokens());
        assertTrue(full.length() > 8, full);

        // a stop string taken from the middle of the greedy text cuts the text just before it
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        Completion cut = client.completions().create(text("It is a truth universally acknowledged", 20).stop(stop).build());
        assertEquals(full.substring(0, full.indexOf(stop)), cut.choices().getFirst().text());
        assertEquals("stop", cut.choices().getFirst().finishReason().asString());

        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<Completion> s = client.completions().createStreaming(text("It is a truth universally acknowledged", 20).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertEquals(full, streamed.toString());
    }

    @Test
    void aSeedReproducesSampledText() {
        CompletionCreateParams.Builder p = text("She was", 16).temperature(1.0).topP(0.95);
        String a = client.completions().create(p.seed(7).build()).choices().getFirst().text();
        String b = client.completions().create(p.seed(7).build()).choices().getFirst().text();
        assertEquals(a, b, "same seed, same text");
        Set<String> others = new HashSet<>();
        for (long seed = 8; seed < 11; seed++) {
            others.add(client.completions().create(p.seed(seed).build()).choices().getFirst().text());
        }
        others.add(a);
        assertTrue(others.size() > 1, "different seeds sample different texts: " + others);
    }

    @Test
    void sixteenConcurrentGreedyClientsGetExactlyTheirTextAlone() throws Exception {
        int n = 16;
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            prompts.add(List.of("Elizabeth", "Mr. Bennet said", "The house at", "Lady Catherine", "It was a fine")
                    .get(i % 5) + " " + "abcdefghijklmnop".charAt(i));
        }
        List<CompletionCreateParams> requests = new ArrayList<>();
        List<Completion> alone = new ArrayList<>();
        for (String p : prompts) {
            requests.add(text(p, 24).build());
            alone.add(client.completions().create(requests.getLast()));
        }
        TestServers.sendAtOnceAndCompare(client, requests, alone, "16 clients");
        String m = TestServers.metrics(server);
        double maxBatch = TestServers.metric(m, "rg_batch_size_max");
        assertTrue(maxBatch >= 2, "sequences were decoded together; largest batch " + maxBatch);
        assertTrue(m.contains("rg_batch_size_bucket"), "batch size histogram exported");
        // how many prompts share a prefill round depends on arrival times; that each prompt got prefilled does not
        assertTrue(TestServers.metric(m, "rg_prefill_batch_rows_max") >= 1, m);
        assertTrue(m.contains("rg_prefill_batch_rows_bucket") && m.contains("rg_prefill_round_tokens_bucket"),
                "prefill round histograms exported");
    }

    @Test
    void unknownModelAndUnsupportedParametersAreClearErrorsAndUnknownFieldsAreIgnored() {
        var e = assertThrows(OpenAIServiceException.class,
                () -> client.chat().completions().create(chat("Hi", 4).model("gpt-4o").build()));
        assertEquals(404, e.statusCode());
        assertEquals("model_not_found", e.code().orElseThrow());

        var bad = assertThrows(OpenAIServiceException.class,
                () -> client.chat().completions().create(chat("Hi", 4).temperature(3.0).build()));
        assertEquals(400, bad.statusCode());
        assertEquals("temperature", bad.param().orElseThrow());

        var n = assertThrows(OpenAIServiceException.class, () -> client.chat().completions().create(chat("Hi", 4).n(17).build()));
        assertEquals(400, n.statusCode());
        assertTrue(n.getMessage().contains("[1, 16]"), n.getMessage());

        ChatCompletion ok = client.chat().completions().create(chat("Hi", 4)
                .putAdditionalBodyProperty("some_future_field", JsonValue.from(42)).build());
        assertFalse(ok.choices().isEmpty());
        assertNotEquals(0, ok.usage().orElseThrow().completionTokens());
    }
}
