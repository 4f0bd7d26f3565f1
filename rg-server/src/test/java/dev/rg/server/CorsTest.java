package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@code --cors-origins}: browser pages of the named origins may call the API (their preflight answered before the
 * key is checked, the answers carrying {@code Access-Control-Allow-Origin}); other origins are refused; without the
 * option no cross-origin header is sent at all.
 */
class CorsTest {
    private static final String PAGE = "http://localhost:3000";

    private static HttpResponse<String> send(RgServer s, String method, String path, String origin, String... headers) throws Exception {
        try (HttpClient h = HttpClient.newHttpClient()) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(TestServers.base(s) + path))
                    .method(method, HttpRequest.BodyPublishers.noBody()).header("Origin", origin);
            for (int i = 0; i < headers.length; i += 2) {
                b.header(headers[i], headers[i + 1]);
            }
            return h.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private static Optional<String> allowed(HttpResponse<String> r) {
        return r.headers().firstValue("Access-Control-Allow-Origin");
    }

    @Test
    void pagesOfTheNamedOriginsMayCallTheApiAndOthersNot() throws Exception {
        RgServer s = TestServers.start(TestServers.options().withApiKey("K").withCorsOrigins(List.of(PAGE)));
        try {
            HttpResponse<String> preflight = send(s, "OPTIONS", "/v1/chat/completions", PAGE, "Access-Control-Request-Method",
                    "POST", "Access-Control-Request-Headers", "authorization, content-type");
            assertEquals(204, preflight.statusCode(), "a preflight carries no key and is answered");
            assertEquals(Optional.of(PAGE), allowed(preflight));
            assertTrue(preflight.headers().allValues("Access-Control-Allow-Methods").toString().contains("POST"));
            assertTrue(preflight.headers().allValues("Access-Control-Allow-Headers").toString().contains("authorization"));

            HttpResponse<String> models = send(s, "GET", "/v1/models", PAGE, "Authorization", "Bearer K");
            assertEquals(200, models.statusCode());
            assertEquals(Optional.of(PAGE), allowed(models));
            assertEquals(401, send(s, "GET", "/v1/models", PAGE).statusCode(), "the key is still required");

            assertEquals(403, send(s, "OPTIONS", "/v1/models", "http://elsewhere.example", "Access-Control-Request-Method", "GET")
                    .statusCode());
            assertEquals(403, send(s, "GET", "/v1/models", "http://elsewhere.example", "Authorization", "Bearer K").statusCode());
        } finally {
            s.close();
        }
    }

    @Test
    void anyOriginWithAStarAndNoneWithoutTheOption() throws Exception {
        RgServer any = TestServers.start(TestServers.options().withCorsOrigins(List.of("*")));
        try {
            assertTrue(allowed(send(any, "GET", "/v1/models", "http://elsewhere.example")).isPresent());
        } finally {
            any.close();
        }
        RgServer none = TestServers.start(TestServers.options());
        try {
            HttpResponse<String> r = send(none, "GET", "/v1/models", PAGE);
            assertEquals(200, r.statusCode(), "a request with an Origin is served; the browser withholds the answer");
            assertEquals(Optional.empty(), allowed(r));
            assertEquals(404, send(none, "OPTIONS", "/v1/models", PAGE, "Access-Control-Request-Method", "GET").statusCode());
        } finally {
            none.close();
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TestServers.options().withCorsOrigins(List.of("localhost:3000")))
                .getMessage().contains("--cors-origins"));
    }
}
