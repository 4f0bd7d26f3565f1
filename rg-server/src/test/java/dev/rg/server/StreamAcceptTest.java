package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * A stream is answered as server-sent events whatever the request's {@code Accept} header says: OpenAI's Python
 * client streams with {@code Accept: application/json}, and was answered with a 500 while the server wrote through a
 * sink that insisted on {@code text/event-stream}.
 */
class StreamAcceptTest extends OneServerTest {

    private static HttpResponse<String> post(String path, String accept, String body) throws Exception {
        try (HttpClient h = HttpClient.newHttpClient()) {
            return h.send(HttpRequest.newBuilder(URI.create(TestServers.base(server) + path)).header("Accept", accept)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void chatAndResponsesStreamForAClientThatAcceptsJson() throws Exception {
        for (String accept : new String[] {"application/json", "text/event-stream", "*/*"}) {
            HttpResponse<String> chat = post("/v1/chat/completions", accept, "{\"model\": \"" + TestServers.MODEL
                    + "\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 3, \"stream\": true}");
            assertEquals(200, chat.statusCode(), accept + ": " + chat.body());
            assertTrue(chat.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            assertTrue(chat.body().startsWith("data: {") && chat.body().endsWith("data: [DONE]\n\n"), chat.body());

            HttpResponse<String> responses = post("/v1/responses", accept, "{\"model\": \"" + TestServers.MODEL
                    + "\", \"input\": \"Hello\", \"max_output_tokens\": 3, \"stream\": true}");
            assertEquals(200, responses.statusCode(), accept + ": " + responses.body());
            assertTrue(responses.body().startsWith("event: response.created\ndata: {\"type\":\"response.created\""), responses.body());
            assertTrue(responses.body().contains("event: response.incomplete\n") || responses.body().contains("event: response.completed\n"));
        }
    }
}
