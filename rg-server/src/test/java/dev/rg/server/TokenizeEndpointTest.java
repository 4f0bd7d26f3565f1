package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * POST /tokenize and /detokenize: the counts and ids are exactly what the completion endpoints prefill (their
 * {@code usage.prompt_tokens}), text comes back from ids, and bad bodies get OpenAI-style 400s.
 */
class TokenizeEndpointTest extends OneServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static HttpResponse<String> post(String path, String body) throws Exception {
        try (HttpClient c = HttpClient.newHttpClient()) {
            return c.send(HttpRequest.newBuilder(URI.create(TestServers.base(server) + path))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private static JsonNode ok(String path, String body) throws Exception {
        HttpResponse<String> r = post(path, body);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    @Test
    void countsAreThePromptTokensTheCompletionEndpointsPrefill() throws Exception {
        String text = "It is a truth universally acknowledged";
        JsonNode t = ok("/tokenize", "{\"prompt\": " + JSON.writeValueAsString(text) + "}");
        long usage = client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL).prompt(text).maxTokens(1)
                .build()).usage().orElseThrow().promptTokens();
        assertEquals(usage, t.get("count").asLong());
        assertEquals(t.get("count").asInt(), t.get("tokens").size());
        assertEquals(2, t.get("tokens").get(0).asInt(), "BOS first");
        assertEquals(65536, t.get("max_model_len").asInt(), "the server's --max-prompt-tokens");
        JsonNode bare = ok("/tokenize", "{\"prompt\": " + JSON.writeValueAsString(text) + ", \"add_special_tokens\": false}");
        assertEquals(t.get("count").asInt() - 1, bare.get("count").asInt());

        String messages = "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Who is Emma?\"}]";
        JsonNode chat = ok("/tokenize", "{\"model\": \"" + TestServers.MODEL + "\", \"messages\": " + messages + "}");
        long chatUsage = client.chat().completions().create(ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                .addSystemMessage("Be brief.").addUserMessage("Who is Emma?").maxCompletionTokens(1).build())
                .usage().orElseThrow().promptTokens();
        assertEquals(chatUsage, chat.get("count").asLong(), "a chat's turns, as the chat endpoint renders them");

        List<Integer> ids = new ArrayList<>();
        bare.get("tokens").forEach(id -> ids.add(id.asInt()));
        assertEquals(text, ok("/detokenize", "{\"tokens\": " + ids + "}").get("prompt").asText());
    }

    @Test
    void withAnApiKeyTheyNeedItLikeTheApi() throws Exception {
        RgServer keyed = TestServers.start(TestServers.options().withApiKey("sekrit"));
        try (HttpClient c = HttpClient.newHttpClient()) {
            for (String path : new String[] {"/tokenize", "/detokenize"}) {
                HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(TestServers.base(keyed) + path))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a\", \"tokens\": [2]}"));
                assertEquals(401, c.send(r.build(), HttpResponse.BodyHandlers.ofString()).statusCode(), path);
                HttpResponse<String> ok = c.send(r.header("Authorization", "Bearer sekrit").build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, ok.statusCode(), ok.body());
            }
        } finally {
            keyed.close();
        }
    }

    @Test
    void badBodiesAreOpenAiStyleErrorsNamingTheField() throws Exception {
        String[][] cases = {
            {"/tokenize", "{}", "prompt", "give either 'prompt' (a string) or 'messages'"},
            {"/tokenize", "{\"prompt\": \"a\", \"messages\": []}", "messages", "give either"},
            {"/tokenize", "{\"prompt\": [1, 2]}", "prompt", "'prompt' must be a string"},
            {"/tokenize", "{\"messages\": []}", "messages", "'messages' must be a non-empty array"},
            {"/tokenize", "{\"prompt\": \"a\", \"add_special_tokens\": \"yes\"}", "add_special_tokens", "must be true or false"},
            {"/detokenize", "{\"tokens\": [1, 99999]}", "tokens", "tokens[1] must be a token id in [0, 4096)"},
            {"/detokenize", "{\"tokens\": \"abc\"}", "tokens", "'tokens' must be an array"},
            {"/detokenize", "[1, 2]", null, "the request body must be a JSON object"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post(c[0], c[1]);
            assertEquals(400, r.statusCode(), c[0] + " " + c[1] + ": " + r.body());
            JsonNode error = JSON.readTree(r.body()).get("error");
            assertTrue(error.get("message").asText().contains(c[3]), r.body());
            assertEquals(c[2], error.get("param").isNull() ? null : error.get("param").asText(), r.body());
        }
        assertEquals(404, post("/tokenize", "{\"model\": \"gpt-4\", \"prompt\": \"a\"}").statusCode());
    }
}
