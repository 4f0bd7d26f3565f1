package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.core.io.AtomicFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The chat page at / in headless Chromium: it sends a message, streams the reply, and shows the same text the API
 * gives. The page's state is read through the DevTools protocol (JDK WebSocket), polling until the reply is done.
 * Skipped, saying so, when Chromium is not installed ({@code apt-get install chromium}; .ci/run installs it).
 */
class ChatPageBrowserTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path chromium() {
        for (String p : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
            if (Files.isExecutable(Path.of(p))) {
                return Path.of(p);
            }
        }
        return null;
    }

    @Test
    void thePageStreamsAReplyEqualToTheApis() throws Exception {
        Path browser = chromium();
        assumeTrue(browser != null, "SKIPPED: Chromium is not installed (apt-get install chromium); the chat page was not tested");
        try (RgServer s = TestServers.start(TestServers.options()); HttpClient http = HttpClient.newHttpClient()) {
            String question = "Hello, who are you?";
            String api = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(TestServers.base(s) + "/v1/chat/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"messages\": [{\"role\": \"user\", \"content\": \"" + question
                            + "\"}], \"max_tokens\": 16, \"temperature\": 0}")).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .at("/choices/0/message/content").asText();
            assertTrue(!api.isEmpty(), "the API replied");

            Path profile = Files.createTempDirectory("rg-chromium-");
            String url = TestServers.base(s) + "/?temperature=0&max_tokens=16&q=" + URLEncoder.encode(question, StandardCharsets.UTF_8);
            Process p = new ProcessBuilder(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", url)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                int port = devToolsPort(p);
                String[] state = pollPage(http, port);
                assertEquals("done", state[0], "the reply finished streaming: " + String.join(" | ", state));
                assertEquals(api, state[1], "the page shows the API's reply");
                assertEquals("length", state[2]);
                String m = TestServers.metrics(s);
                assertTrue(TestServers.metric(m, "rg_requests_total{endpoint=\"chat\",status=\"200\"}") >= 2, m);
            } finally {
                stop(p);
                AtomicFiles.deleteTree(profile); // best effort: a helper still ending does not fail the test
            }
        }
    }

    /**
     * Ends Chromium and its helper processes (renderer, network service), which outlive the browser process for a moment
     * and keep writing into the profile; each wait is bounded.
     */
    private static void stop(Process p) throws InterruptedException {
        List<ProcessHandle> helpers = p.descendants().toList();
        p.destroy();
        helpers.forEach(ProcessHandle::destroy);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle h : helpers) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                h.destroyForcibly();
            }
        }
    }

    /** Reads "DevTools listening on ws://127.0.0.1:PORT/..." from Chromium's stderr (bounded: 60 s). */
    private static int devToolsPort(Process p) throws Exception {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            Pattern ws = Pattern.compile("DevTools listening on ws://[^:]+:(\\d+)/");
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    Matcher m = ws.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
                port.completeExceptionally(new IllegalStateException("Chromium exited without a DevTools port"));
            } catch (IOException e) {
                port.completeExceptionally(e);
            }
        });
        return port.get(60, TimeUnit.SECONDS);
    }

    /** Polls the page (every 200 ms, at most 90 s) until its reply is done: [state, text, finish reason]. */
    private static String[] pollPage(HttpClient http, int port) throws Exception {
        String wsUrl = null;
        for (int i = 0; i < 100 && wsUrl == null; i++) {
            JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            for (JsonNode t : targets) {
                if ("page".equals(t.path("type").asText()) && t.path("url").asText().contains("q=")) {
                    wsUrl = t.path("webSocketDebuggerUrl").asText();
                }
            }
            if (wsUrl == null) {
                Thread.sleep(100);
            }
        }
        assertTrue(wsUrl != null, "Chromium shows the page");
        Replies replies = new Replies();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(wsUrl), replies).get(30, TimeUnit.SECONDS);
        try {
            String expr = "(() => { const a = document.querySelector('.msg.assistant, .msg.error');"
                    + " return JSON.stringify(a ? [a.dataset.state || '', a.textContent, a.dataset.finish || ''] : ['', '', '']); })()";
            String[] last = {"", "", ""};
            for (int id = 1; id <= 450; id++) {
                replies.next = new CompletableFuture<>();
                ws.sendText(JSON.writeValueAsString(JSON.createObjectNode().put("id", id).put("method", "Runtime.evaluate")
                        .set("params", JSON.createObjectNode().put("expression", expr).put("returnByValue", true))), true)
                        .get(10, TimeUnit.SECONDS);
                JsonNode value = JSON.readTree(replies.next.get(10, TimeUnit.SECONDS)).at("/result/result/value");
                if (value.isTextual()) {
                    JsonNode arr = JSON.readTree(value.asText());
                    last = new String[] {arr.get(0).asText(), arr.get(1).asText(), arr.get(2).asText()};
                    if (last[0].equals("done") || last[0].equals("error")) {
                        return last;
                    }
                }
                Thread.sleep(200);
            }
            return last;
        } finally {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
        }
    }

    /** Collects DevTools replies (those with an id; events are ignored). */
    private static final class Replies implements WebSocket.Listener {
        volatile CompletableFuture<String> next = new CompletableFuture<>();
        private final StringBuilder buffer = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            buffer.append(data);
            if (last) {
                String msg = buffer.toString();
                buffer.setLength(0);
                if (msg.contains("\"id\":")) {
                    next.complete(msg);
                }
            }
            ws.request(1);
            return null;
        }
    }
}
