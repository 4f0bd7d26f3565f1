package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.RecurrentGemma;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OpenAI Batch API lines run in process ({@link OpenAiBatch}): a request's response body is the one the HTTP endpoint
 * answers for the same body (ids and times aside), whatever else runs beside it; an unseeded sampled request follows its
 * {@code custom_id}; lines that are not requests, and requests the endpoint refuses, get OpenAI's output shapes.
 */
class OpenAiBatchTest extends OneServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static RecurrentGemma rg;

    @BeforeAll
    static void loadModel() {
        rg = TestServers.austenModel();
    }

    @AfterAll
    static void closeModel() {
        rg.close();
    }

    private static OpenAiBatch batch(int sequences, long seed) {
        return OpenAiBatch.start(rg.model(), rg.tokenizer(), ServerOptions.defaults(TestServers.MODEL).withLimits(sequences, sequences),
                seed);
    }

    @Test
    void eachBodyIsWhatTheEndpointAnswersForIt() throws Exception {
        Random rnd = new Random(20261207);
        List<ObjectNode> lines = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            boolean chat = i % 3 == 0;
            ObjectNode body = JSON.createObjectNode().put("model", "gpt-4o-mini").put("max_tokens", 1 + rnd.nextInt(12));
            if (chat) {
                body.putArray("messages").addObject().put("role", "user").put("content", TestServers.randomWords(rnd, 1 + rnd.nextInt(6)));
            } else {
                body.put("prompt", TestServers.randomWords(rnd, 1 + rnd.nextInt(6)));
            }
            switch (i % 4) {
                case 0 -> body.put("temperature", 0);
                case 1 -> body.put("temperature", 0.9).put("seed", rnd.nextInt(1000)).put("n", 2);
                case 2 -> body.put("temperature", 0).putArray("stop").add("e");
                default -> body.put("temperature", 0.7).put("seed", 5).put(chat ? "top_logprobs" : "logprobs", 2)
                        .put("frequency_penalty", 0.5);
            }
            if (chat && body.has("top_logprobs")) {
                body.put("logprobs", true);
            }
            lines.add(JSON.createObjectNode().put("custom_id", "req-" + i).put("method", "POST")
                    .put("url", chat ? "/v1/chat/completions" : "/v1/completions").set("body", body));
        }
        List<JsonNode> answered = runAll(batch(4, 1), lines);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode out = answered.get(i);
            assertEquals("req-" + i, out.get("custom_id").asText());
            assertEquals("batch_req_" + (i + 1), out.get("id").asText());
            assertTrue(out.get("error").isNull(), out.toString());
            assertEquals(200, out.at("/response/status_code").asInt(), out.toString());
            ObjectNode http = (ObjectNode) post(lines.get(i).get("url").asText(), (ObjectNode) lines.get(i).get("body"));
            assertSameBody(withoutIdAndTime(http), withoutIdAndTime((ObjectNode) out.at("/response/body")), "line " + (i + 1));
        }
    }

    @Test
    void anUnseededSampledRequestFollowsItsCustomIdAndTheJobSeed() throws Exception {
        ObjectNode body = JSON.createObjectNode().put("prompt", "Emma Woodhouse").put("max_tokens", 12).put("temperature", 1.0);
        List<ObjectNode> lines = List.of(line("a", "/v1/completions", body), line("b", "/v1/completions", body),
                line("a", "/v1/completions", body));
        List<JsonNode> first = runAll(batch(2, 7), lines);
        List<JsonNode> again = runAll(batch(3, 7), lines);
        List<JsonNode> otherSeed = runAll(batch(2, 8), lines);
        assertEquals(text(first.get(0)), text(first.get(2)), "custom_id a twice");
        assertNotEquals(text(first.get(0)), text(first.get(1)), "custom_id b samples its own text");
        for (int i = 0; i < 3; i++) {
            assertEquals(text(first.get(i)), text(again.get(i)), "another run, another batch size: the same text");
        }
        assertNotEquals(text(first.get(0)), text(otherSeed.get(0)), "another job seed");
    }

    @Test
    void requestsArrivingTogetherPrefillTheirSharedSystemMessageOnce() throws Exception {
        Random rnd = new Random(7);
        String system = TestServers.randomWords(rnd, 120);
        List<ObjectNode> lines = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ObjectNode body = JSON.createObjectNode().put("max_tokens", 6).put("temperature", 0);
            var messages = body.putArray("messages");
            messages.addObject().put("role", "system").put("content", system);
            messages.addObject().put("role", "user").put("content", TestServers.randomWords(rnd, 1 + rnd.nextInt(5)));
            lines.add(line("s" + i, "/v1/chat/completions", body));
        }
        List<JsonNode> cached = runAll(batch(8, 0), lines); // submitted back to back: they arrive together
        List<JsonNode> uncached = runAll(OpenAiBatch.start(rg.model(), rg.tokenizer(),
                ServerOptions.defaults(TestServers.MODEL).withLimits(8, 8).withStateCacheBytes(0), 0), lines);
        int resumed = 0;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode usage = cached.get(i).at("/response/body/usage");
            if (usage.at("/prompt_tokens_details/cached_tokens").asInt() > 100) {
                resumed++;
            }
            assertEquals(uncached.get(i).at("/response/body/choices/0/message/content"),
                    cached.get(i).at("/response/body/choices/0/message/content"), "line " + (i + 1) + " as without the cache");
        }
        assertEquals(lines.size() - 1, resumed, "one prefills the system message, the others resume from it: " + cached);
    }

    @Test
    void linesThatAreNotRequestsAndRefusedRequestsGetOpenAisShapes() throws Exception {
        try (OpenAiBatch b = batch(2, 0)) {
            ObjectNode ok = JSON.createObjectNode().put("prompt", "x").put("max_tokens", 1);
            assertError(b.parse(1, "not json"), null, "line 1 is not a JSON object");
            assertError(b.parse(2, "{\"url\": \"/v1/completions\", \"body\": {}}"), null,
                    "line 2: \"custom_id\" must be a non-empty string");
            assertError(b.parse(3, line("c", "/v1/embeddings", ok).toString()), "c",
                    "line 3: \"url\" must be one of /v1/chat/completions, /v1/completions, /v1/responses, got \"/v1/embeddings\"");
            assertError(b.parse(4, line("d", "/v1/completions", ok).put("method", "GET").toString()), "d",
                    "line 4: \"method\" must be \"POST\", got \"GET\"");
            assertError(b.parse(5, line("e", "/v1/completions", ok).put("body", "x").toString()), "e",
                    "line 5: \"body\" must be a JSON object (the request's body)");
            JsonNode refused = JSON.readTree(b.parse(6, line("f", "/v1/completions", ok.deepCopy().put("temperature", 7)).toString())
                    .result().line());
            assertEquals(400, refused.at("/response/status_code").asInt());
            assertEquals("temperature", refused.at("/response/body/error/param").asText());
            assertTrue(refused.get("error").isNull());
            JsonNode streamed = JSON.readTree(b.parse(7, line("g", "/v1/completions", ok.deepCopy().put("stream", true)).toString())
                    .result().line());
            assertEquals("stream", streamed.at("/response/body/error/param").asText());
            assertTrue(b.unreadable(8, "line 8 is not UTF-8 (invalid byte at offset 3)").failed());

            // more prompts than the scheduler ever holds at once (2 running + 2 waiting)
            ObjectNode five = ok.deepCopy();
            five.putArray("prompt").add("a").add("b").add("c").add("d").add("e");
            JsonNode big = JSON.readTree(b.parse(9, line("h", "/v1/completions", five).toString()).result().line());
            assertEquals(400, big.at("/response/status_code").asInt());
            assertEquals("prompt", big.at("/response/body/error/param").asText());
        }
        try (OpenAiBatch b = batch(1, 0)) {
            // room for one running and one waiting: a third request waits until the first has finished
            ObjectNode longer = JSON.createObjectNode().put("prompt", "x").put("max_tokens", 1000).put("ignore_eos", true);
            CompletableFuture<OpenAiBatch.Result> first = new CompletableFuture<>();
            assertTrue(b.submit(b.parse(1, line("a", "/v1/completions", longer).toString()), first::complete));
            assertTrue(b.submit(b.parse(2, line("b", "/v1/completions", longer).toString()), r -> {}));
            OpenAiBatch.Request third = b.parse(3, line("c", "/v1/completions", longer).toString());
            assertFalse(b.submit(third, r -> {}), "full: nothing is queued");
            assertEquals(1000, JSON.readTree(first.get(2, TimeUnit.MINUTES).line()).at("/response/body/usage/completion_tokens").asInt());
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            boolean queued = false;
            while (!queued && System.nanoTime() < deadline) {
                queued = b.submit(third, r -> {});
                Thread.sleep(5);
            }
            assertTrue(queued, "room once the first request has left");
        }
    }

    @Test
    void everyMalformedBodyIsItsRowsAnswerNeverTheJobsEnd() throws Exception {
        String[] fields = {"temperature", "top_p", "top_k", "min_p", "max_tokens", "max_completion_tokens", "n", "seed", "stop",
            "logprobs", "top_logprobs", "logit_bias", "response_format", "stream_options", "echo", "frequency_penalty",
            "presence_penalty", "repetition_penalty", "ignore_eos", "prompt", "messages", "model", "stream"};
        String[] values = {"\"x\"", "[]", "{}", "-1", "1.5", "1e309", "null", "[1, \"a\"]", "[[]]", "[-5]", "[[1e10]]",
            "[{}]", "[{\"role\": 1}]", "{\"abc\": 1}", "{\"5\": \"x\"}", "{\"type\": \"json_schema\"}", "1000000", "true"};
        try (OpenAiBatch b = batch(2, 0)) {
            long number = 0;
            for (String url : new String[] {"/v1/completions", "/v1/chat/completions"}) {
                for (String field : fields) {
                    for (String value : values) {
                        boolean chat = url.endsWith("chat/completions");
                        String base = chat ? "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], " : "\"prompt\": \"hi\", ";
                        if (field.equals(chat ? "messages" : "prompt")) {
                            base = ""; // the field under test is the prompt itself
                        }
                        String line = "{\"custom_id\": \"m\", \"url\": \"" + url + "\", \"body\": {" + base + "\"" + field + "\": "
                                + value + "}}";
                        OpenAiBatch.Request r = b.parse(++number, line); // never throws
                        if (r.result() != null) {
                            JsonNode out = JSON.readTree(r.result().line());
                            assertEquals("m", out.get("custom_id").asText(), line);
                            assertTrue(out.at("/response/status_code").asInt() >= 400 || out.get("error").isObject(), line);
                        }
                    }
                }
            }
        }
    }

    @Test
    void anOutputLineAnswersTheInputLineWithItsCustomId() throws Exception {
        try (OpenAiBatch b = batch(1, 0)) {
            String in = line("q-1", "/v1/completions", JSON.createObjectNode().put("prompt", "x")).toString();
            assertTrue(b.answers(3, in, "{\"id\": \"batch_req_3\", \"custom_id\": \"q-1\"}"));
            assertFalse(b.answers(3, in, "{\"id\": \"batch_req_3\", \"custom_id\": \"q-2\"}"));
            assertTrue(b.answers(3, "not json", "{\"id\": \"batch_req_3\", \"custom_id\": null}"), "no custom_id: the line number");
            assertFalse(b.answers(3, "not json", "{\"id\": \"batch_req_4\", \"custom_id\": null}"));
            assertFalse(b.answers(3, in, "{\"id\": \"batch_req_3\""), "a cut line answers nothing");
            assertTrue(OpenAiBatch.isBatchRequest(in));
            assertFalse(OpenAiBatch.isBatchRequest("{\"prompt\": \"x\"}"));
        }
    }

    private static void assertError(OpenAiBatch.Request r, String customId, String message) throws Exception {
        assertEquals(0, r.sequences());
        JsonNode out = JSON.readTree(r.result().line());
        assertTrue(r.result().failed());
        assertEquals(customId, out.get("custom_id").isNull() ? null : out.get("custom_id").asText());
        assertTrue(out.get("response").isNull());
        assertEquals(message, out.at("/error/message").asText());
        assertEquals("invalid_request", out.at("/error/code").asText());
    }

    /** Submits every line at once (they fit) and waits for all; closes the batch. */
    private static List<JsonNode> runAll(OpenAiBatch b, List<ObjectNode> lines) throws Exception {
        try (b) {
            List<CompletableFuture<OpenAiBatch.Result>> results = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                OpenAiBatch.Request r = b.parse(i + 1, lines.get(i).toString());
                assertNull(r.result(), lines.get(i).toString());
                CompletableFuture<OpenAiBatch.Result> f = new CompletableFuture<>();
                // a full scheduler refuses; wait for the earlier ones, which free room as they finish
                while (!b.submit(r, f::complete)) {
                    results.getLast().get(2, TimeUnit.MINUTES);
                    Thread.sleep(20);
                }
                results.add(f);
            }
            List<JsonNode> out = new ArrayList<>();
            for (CompletableFuture<OpenAiBatch.Result> f : results) {
                out.add(JSON.readTree(f.get(2, TimeUnit.MINUTES).line()));
            }
            return out;
        }
    }

    private static ObjectNode line(String customId, String url, ObjectNode body) {
        ObjectNode o = JSON.createObjectNode().put("custom_id", customId).put("method", "POST").put("url", url);
        o.set("body", body);
        return o;
    }

    private static String text(JsonNode out) {
        return out.at("/response/body/choices/0/text").asText();
    }

    private static JsonNode post(String path, ObjectNode body) throws Exception {
        ObjectNode sent = body.deepCopy().put("model", TestServers.MODEL);
        try (HttpClient c = HttpClient.newHttpClient()) {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(TestServers.base(server) + path))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(sent.toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return JSON.readTree(r.body());
        }
    }

    /**
     * The same tree, log-probabilities within 1e-5: a row decoded in a batch can differ from one decoded alone in the last
     * bit of its logits while the JIT compiles the kernels (C1 and C2 add a vector's lanes in different orders).
     */
    private static void assertSameBody(JsonNode expected, JsonNode actual, String where) {
        if (expected.isFloatingPointNumber() && actual.isNumber()) {
            assertEquals(expected.asDouble(), actual.asDouble(), 1e-5, where);
        } else if (expected.isContainerNode()) {
            assertEquals(expected.size(), actual.size(), where + ": " + actual);
            for (var it = expected.fieldNames(); expected.isObject() && it.hasNext(); ) {
                String name = it.next();
                assertNotNull(actual.get(name), where + " has no " + name);
                assertSameBody(expected.get(name), actual.get(name), where + "." + name);
            }
            for (int i = 0; expected.isArray() && i < expected.size(); i++) {
                assertSameBody(expected.get(i), actual.get(i), where + "[" + i + "]");
            }
        } else {
            assertEquals(expected, actual, where);
        }
    }

    private static ObjectNode withoutIdAndTime(ObjectNode body) {
        ObjectNode copy = body.deepCopy();
        copy.remove("id");
        copy.remove("created");
        return copy;
    }
}
