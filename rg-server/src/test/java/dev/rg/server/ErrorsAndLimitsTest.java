package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Bad requests, limits and departing clients: each gets OpenAI's error body with the right status, and the server
 * keeps serving the others.
 */
class ErrorsAndLimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The SDK client, closeable for try-with-resources. */
    private record Client(OpenAIClient c) implements AutoCloseable {
        @Override
        public void close() {
            c.close();
        }
    }

    private static Client client(RgServer s, String key) {
        return new Client(OpenAIOkHttpClient.builder().baseUrl(TestServers.base(s) + "/v1").apiKey(key).maxRetries(0).build());
    }

    private static CompletionCreateParams.Builder text(String prompt, int maxTokens) {
        return CompletionCreateParams.builder().model(TestServers.MODEL).prompt(prompt).maxTokens(maxTokens).temperature(0.0);
    }

    private static HttpResponse<String> post(RgServer s, String path, byte[] body) throws Exception {
        try (HttpClient c = HttpClient.newHttpClient()) {
            return c.send(HttpRequest.newBuilder(URI.create(TestServers.base(s) + path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertTrue(e != null && e.get("message").isTextual() && e.has("type") && e.has("code"), r.body());
        return e;
    }

    @Test
    void malformedOversizedAndTooLongRequestsAreRejectedAndTheServerKeepsServing() throws Exception {
        try (RgServer s = TestServers.start(TestServers.options()); Client cl = client(s, "unused")) {
            OpenAIClient c = cl.c();
            HttpResponse<String> bad = post(s, "/v1/chat/completions", "{\"messages\": [".getBytes());
            assertEquals(400, bad.statusCode());
            assertTrue(error(bad).get("message").asText().contains("not valid JSON"), bad.body());

            HttpResponse<String> roles = post(s, "/v1/chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}".getBytes());
            assertEquals(400, roles.statusCode());
            assertEquals("messages[0].role", error(roles).get("param").asText());

            byte[] huge = new byte[9 << 20];
            java.util.Arrays.fill(huge, (byte) ' ');
            HttpResponse<String> big = post(s, "/v1/completions", huge);
            assertEquals(413, big.statusCode());
            assertTrue(error(big).get("message").asText().contains("--max-body-mb"), big.body());

            // a 1 MB prompt is within the body limit but beyond --max-prompt-tokens
            String mb = "It is a truth universally acknowledged. ".repeat((1 << 20) / 40);
            var e = assertThrows(OpenAIServiceException.class, () -> c.completions().create(text(mb, 4).build()));
            assertEquals(413, e.statusCode());
            assertTrue(e.getMessage().contains("--max-prompt-tokens"), e.getMessage());

            HttpResponse<String> unknown = post(s, "/v1/embeddings", "{}".getBytes());
            assertEquals(404, unknown.statusCode());
            error(unknown);

            Completion ok = c.completions().create(text("Elizabeth", 6).build());
            assertEquals(6, ok.usage().orElseThrow().completionTokens(), "still serving");
            String m = TestServers.metrics(s);
            assertTrue(TestServers.metric(m, "rg_requests_total{endpoint=\"completions\",status=\"413\"}") >= 2, m);
        }
    }

    @Test
    void anApiKeyIsRequiredWhenConfigured() {
        try (RgServer s = TestServers.start(TestServers.options().withApiKey("s3cret"));
                Client w = client(s, "guess");
                Client r = client(s, "s3cret")) {
            OpenAIClient wrong = w.c();
            OpenAIClient right = r.c();
            var e = assertThrows(OpenAIServiceException.class, () -> wrong.completions().create(text("Hi", 2).build()));
            assertEquals(401, e.statusCode());
            assertEquals("invalid_api_key", e.code().orElseThrow());
            assertEquals(2, right.completions().create(text("Hi", 2).build()).usage().orElseThrow().completionTokens());
        }
    }

    @Test
    void aFullQueueAnswers429AndADepartingClientFreesItsSlot() throws Exception {
        try (RgServer s = TestServers.start(TestServers.options().withLimits(1, 1)); Client cl = client(s, "unused")) {
            OpenAIClient c = cl.c();
            CompletionCreateParams endless = text("Once", 1_000_000).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build();
            CompletableFuture<Completion> queued;
            try (StreamResponse<Completion> stream = c.completions().createStreaming(endless)) {
                Iterator<Completion> it = stream.stream().iterator();
                assertTrue(it.hasNext(), "the endless stream started");
                it.next();
                queued = CompletableFuture.supplyAsync(() -> c.completions().create(text("Mr. Darcy", 5).build()));
                TestServers.waitFor(s, "rg_queue_depth", 1);
                var e = assertThrows(OpenAIServiceException.class, () -> c.completions().create(text("Emma", 5).build()));
                assertEquals(429, e.statusCode());
                assertEquals("queue_full", e.code().orElseThrow());
            }
            // the client of the endless stream went away: its slot goes to the queued request
            Completion served = queued.get(2, TimeUnit.MINUTES);
            assertEquals(5, served.usage().orElseThrow().completionTokens());
            TestServers.waitFor(s, "rg_sequences_cancelled_total", 1);
            TestServers.waitFor(s, "rg_active_sequences", 0);
            assertFalse(served.choices().getFirst().text().isEmpty());
        }
    }
}
