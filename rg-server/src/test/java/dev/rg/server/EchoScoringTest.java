package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Completions with {@code echo}: the prompt's text comes first and, with {@code logprobs}, its tokens' entries, each
 * the model's log-probability of that token after the ones before it (recomputed here with rg-core, every position's
 * logits in one pass); the first token's is null. This is how an evaluation harness (lm-evaluation-harness's
 * {@code local-completions}: token-id prompts, {@code echo}, {@code logprobs: 1}, {@code max_tokens} 0 or 1) scores
 * a text. Raw HTTP and JSON, as such harnesses send it.
 */
class EchoScoringTest {
    private static final double TOLERANCE = 1e-4;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longer than {@link PromptScoring#CHUNK}, so that scoring takes several passes. */
    private static final String PROMPT = "It is a truth universally acknowledged, that a single man in possession of a good"
            + " fortune, must be in want of a wife. However little known the feelings or views of such a man may be on his"
            + " first entering a neighbourhood, this truth is so well fixed in the minds of the surrounding families";

    private static RgServer server;
    private static RecurrentGemma model;
    private static HttpClient http;

    @BeforeAll
    static void start() {
        server = TestServers.start(TestServers.options());
        model = TestServers.austenModel();
        http = HttpClient.newHttpClient();
    }

    @AfterAll
    static void stop() {
        http.close();
        server.close();
        model.close();
    }

    private static JsonNode post(ObjectNode body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(TestServers.base(server) + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    private static ObjectNode request(int maxTokens) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", TestServers.MODEL);
        body.put("temperature", 0);
        body.put("max_tokens", maxTokens);
        return body;
    }

    /** The model's log-probability of each prompt token after the ones before it (index 0: NaN, nothing before it). */
    private static double[] expected(int[] ids) {
        double[] out = new double[ids.length];
        out[0] = Double.NaN;
        try (ModelState s = model.newState(1)) {
            Tensor logits = model.model().griffin().forward(s, ids, ids.length, Outputs.ALL);
            int vocab = model.model().config().vocabSize();
            float[] all = new float[Math.toIntExact(logits.size())];
            model.model().backend().download(logits, all);
            for (int p = 0; p + 1 < ids.length; p++) {
                out[p + 1] = TestServers.logSoftmax(all, p * vocab, vocab)[ids[p + 1]];
            }
        }
        return out;
    }

    private static int[] promptIds() {
        int[] body = model.tokenize(PROMPT);
        int[] ids = new int[body.length + 1];
        ids[0] = model.tokenizer().bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    private static void assertScored(JsonNode logprobs, int[] ids, int from) {
        double[] want = expected(ids);
        JsonNode got = logprobs.get("token_logprobs");
        assertTrue(got.get(from).isNull(), "the first prompt token has no logprob: " + got.get(from));
        assertTrue(logprobs.get("top_logprobs").get(from).isNull());
        for (int i = 1; i < ids.length; i++) {
            assertEquals(want[i], got.get(from + i).asDouble(), TOLERANCE, "prompt token " + i);
            assertTrue(logprobs.get("top_logprobs").get(from + i).size() >= 1, "prompt token " + i + "'s alternatives");
        }
    }

    @Test
    void echoWithLogprobsAndNoNewTokensScoresThePrompt() throws Exception {
        ObjectNode body = request(0);
        body.put("prompt", PROMPT);
        body.put("echo", true);
        body.put("logprobs", 2);
        JsonNode r = post(body);
        JsonNode choice = r.get("choices").get(0);
        int[] ids = promptIds();
        assertTrue(ids.length > PromptScoring.CHUNK + 1, "the prompt spans several scoring passes: " + ids.length);
        assertEquals(PROMPT, choice.get("text").asText());
        assertEquals("length", choice.get("finish_reason").asText());
        assertEquals(ids.length, r.get("usage").get("prompt_tokens").asInt());
        assertEquals(0, r.get("usage").get("completion_tokens").asInt());
        JsonNode lp = choice.get("logprobs");
        assertEquals(ids.length, lp.get("tokens").size(), "one entry per prompt token, BOS included");
        assertEquals(0, lp.get("text_offset").get(1).asInt(), "BOS adds no text");
        assertScored(lp, ids, 0);
        assertTrue(TestServers.metric(TestServers.metrics(server), "rg_prompt_tokens_scored_total") >= ids.length - 1,
                "the scored tokens are counted");
    }

    @Test
    void tokenIdPromptsAsAnEvaluationHarnessSendsThemScoreThePromptThenGenerate() throws Exception {
        int[] ids = promptIds();
        ObjectNode body = request(3);
        ArrayNode prompt = body.putArray("prompt");
        for (int id : ids) {
            prompt.add(id);
        }
        body.put("echo", true);
        body.put("logprobs", 1);
        body.put("ignore_eos", true);
        JsonNode echoed = post(body).get("choices").get(0);
        JsonNode lp = echoed.get("logprobs");
        assertEquals(ids.length + 3, lp.get("token_logprobs").size(), "the prompt's entries, then the 3 generated");
        assertScored(lp, ids, 0);

        ObjectNode plain = request(3);
        plain.set("prompt", prompt);
        plain.put("logprobs", 1);
        plain.put("ignore_eos", true);
        JsonNode alone = post(plain).get("choices").get(0);
        assertEquals(PROMPT + alone.get("text").asText(), echoed.get("text").asText(), "echo = prompt text + the same reply");
        for (int i = 0; i < 3; i++) {
            assertEquals(alone.get("logprobs").get("token_logprobs").get(i).asDouble(),
                    lp.get("token_logprobs").get(ids.length + i).asDouble(), TOLERANCE, "generated token " + i);
        }
    }

    @Test
    void echoAloneStreamsThePromptFirst() throws Exception {
        ObjectNode body = request(4);
        body.put("prompt", "Mr. Darcy");
        body.put("echo", true);
        body.put("stream", true);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(TestServers.base(server) + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        List<String> texts = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode c = JSON.readTree(line.substring(6)).get("choices");
                if (!c.isEmpty() && c.get(0).get("finish_reason").isNull()) {
                    texts.add(c.get(0).get("text").asText());
                    assertTrue(c.get(0).get("logprobs").isNull(), "no logprobs asked for");
                }
            }
        }
        assertEquals("Mr. Darcy", texts.getFirst(), "the prompt comes first");
        assertTrue(texts.size() > 1, "then the reply: " + texts);

        ObjectNode none = request(0);
        none.put("prompt", "Mr. Darcy");
        none.put("echo", true);
        assertEquals("Mr. Darcy", post(none).get("choices").get(0).get("text").asText(), "max_tokens 0: the prompt alone");

        ObjectNode noEcho = request(0);
        noEcho.put("prompt", "Mr. Darcy");
        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(TestServers.base(server) + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(noEcho.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, refused.statusCode(), "max_tokens 0 without echo: " + refused.body());
        assertEquals("max_tokens", JSON.readTree(refused.body()).get("error").get("param").asText());
    }
}
