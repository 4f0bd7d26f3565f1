package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.server.bench.LoadBenchmark;
import dev.rg.server.bench.LoadComparison;
import dev.rg.server.bench.LoadReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** rg bench-serve's load generator against rg serve on the embedded model: what it counts and what it sends. */
class LoadBenchmarkTest {
    private static LoadBenchmark.Settings settings(RgServer s, int clients, int requests, int maxTokens, Duration warmup) {
        return new LoadBenchmark.Settings(TestServers.base(s), null, null, clients, requests, 16, maxTokens,
                Duration.ofMinutes(2), warmup, 0, 0);
    }

    @Test
    void warmUpRequestsRunButAreNotMeasured() throws Exception {
        try (RgServer s = TestServers.start(TestServers.options())) {
            LoadBenchmark b = new LoadBenchmark(settings(s, 2, 4, 6, Duration.ofMillis(1)));
            int warm = b.warmUp();
            assertTrue(warm >= 2, "at least one warm-up request per client, got " + warm);
            LoadReport r = b.measure();
            assertEquals(4, r.requests());
            assertEquals(4 * 6, r.outputTokens(), "only the measured requests' tokens");
            assertTrue(r.ttft()[0] > 0 && r.itl()[0] > 0 && r.itl()[2] >= r.itl()[0], "latencies measured");
            if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/stat"))) {
                // Linux: the machine's CPU while the measured requests ran (this JVM runs the server too, so it is "own")
                assertTrue(r.machine() != null && r.machine().ownPercent() > 0 && r.machine().ownPercent() <= 100, r.table());
                assertTrue(r.table().contains("machine CPU while measured"), r.table());
                assertEquals(r.machine().ownPercent(),
                        new ObjectMapper().readTree(r.json()).path("machine_cpu_percent").path("load_generator").asDouble(), 1e-9);
            }
            String m = TestServers.metrics(s);
            // the server generated the warm-up's tokens too: min(16, 6) per warm-up request
            assertEquals(4 * 6 + warm * 6, TestServers.metric(m, "rg_completion_tokens_total"), 0.0);
        }
    }

    /**
     * {@code --system-tokens}: chat completions that share one system message, which the server prefills once (its
     * state kept after the system text) and the report shows as cached prompt tokens.
     */
    @Test
    void aSharedSystemMessageIsReportedAsCachedPromptTokens() throws Exception {
        try (RgServer s = TestServers.start(TestServers.options())) {
            LoadReport r = new LoadBenchmark(new LoadBenchmark.Settings(TestServers.base(s), null, null, 1, 3, 16, 4,
                    Duration.ofMinutes(2), Duration.ZERO, 0, 64)).run();
            assertEquals(3 * 4, r.outputTokens(), "chat streams counted");
            assertTrue(r.meanPromptTokens() > 64, "system and user text: " + r.meanPromptTokens());
            // one request cannot resume (nothing was kept before it), the next two resume after the system text
            assertTrue(r.meanCachedTokens() > 30 && r.meanCachedTokens() < r.meanPromptTokens(), "cached: " + r.meanCachedTokens());
            assertTrue(r.table().contains(" cached)"), r.table());
            assertEquals(r.meanCachedTokens(), new ObjectMapper().readTree(r.json()).path("cached_prompt_tokens_mean").asDouble(), 1e-9);
            assertEquals(3, TestServers.metric(TestServers.metrics(s), "rg_requests_total{endpoint=\"chat\",status=\"200\"}"));
        }
    }

    @Test
    void nothingListeningIsOneClearLine() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort(); // closed again below: nothing listens there
        }
        String url = "http://127.0.0.1:" + port;
        IOException e = assertThrows(IOException.class, () -> new LoadBenchmark(new LoadBenchmark.Settings(url, null, null, 1, 1,
                16, 4, Duration.ofMinutes(2), Duration.ZERO, 0, 0)).run());
        assertEquals("cannot connect to " + url + " (is a server listening there?)", e.getMessage());
    }

    @Test
    void comparisonRatiosAndJson() throws Exception {
        LoadReport base = report(1, 10.0, new double[] {0.100, 0.110, 0.150});
        LoadReport run = report(16, 45.0, new double[] {0.250, 0.300, 0.420});
        LoadComparison c = new LoadComparison(base, run);
        assertEquals(4.5, c.throughputRatio(), 1e-12);
        assertEquals(2.5, c.p50ItlRatio(), 1e-12);
        assertEquals(2.8, c.p99ItlRatio(), 1e-12);
        assertEquals(4.2, c.p99ItlToBaselineMedian(), 1e-12);
        JsonNode j = new ObjectMapper().readTree(c.json());
        assertEquals(1, j.path("baseline").path("clients").asInt());
        assertEquals(16, j.path("run").path("clients").asInt());
        assertEquals(4.5, j.path("ratios").path("output_tokens_per_second").asDouble(), 1e-12);
        assertEquals(2.8, j.path("ratios").path("inter_token_p99_to_baseline_p99").asDouble(), 1e-12);
        assertTrue(c.table().contains("4.50x"), c.table());
        assertTrue(c.table().contains("closed loop") && c.table().contains("Poisson arrivals at 0.400/s"), c.table());
        assertEquals(0.4, j.path("run").path("request_rate").asDouble(), 1e-12);
    }

    @Test
    void settingsOutOfRangeAreRefusedNamingTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LoadBenchmark.Settings("http://127.0.0.1:1", null, null, 1, 1, 8, 8, Duration.ofSeconds(1), Duration.ofSeconds(-2), 0, 0));
        assertTrue(e.getMessage().contains("--warmup-seconds"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LoadBenchmark.Settings("http://127.0.0.1:1", null, null, 100_000, 1, 8, 8, Duration.ofSeconds(1), Duration.ZERO, 0, 0));
        assertTrue(e.getMessage().contains("--clients"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LoadBenchmark.Settings("http://127.0.0.1:1", null, null, 1, 1, 8, 8, Duration.ofSeconds(1), Duration.ZERO, Double.NaN, 0));
        assertTrue(e.getMessage().contains("--request-rate"), e.getMessage());
    }

    @Test
    void arrivalsAreAPoissonProcessOfTheRate() {
        double[] due = LoadBenchmark.arrivals(4.0, 20_000);
        for (int i = 1; i < due.length; i++) {
            assertTrue(due[i] > due[i - 1], "increasing");
        }
        // mean gap 1 / rate; for exponential gaps the standard deviation equals the mean
        double mean = due[due.length - 1] / due.length;
        assertEquals(0.25, mean, 0.01);
        double var = 0;
        for (int i = 0; i < due.length; i++) {
            double gap = due[i] - (i == 0 ? 0 : due[i - 1]);
            var += (gap - mean) * (gap - mean);
        }
        assertEquals(0.25, Math.sqrt(var / due.length), 0.01);
        assertEquals(due[7], LoadBenchmark.arrivals(4.0, 8)[7], 0.0, "the same schedule every run");
    }

    @Test
    void requestsAreNotSentBeforeTheyAreDue() throws Exception {
        try (RgServer s = TestServers.start(TestServers.options())) {
            double rate = 8;
            LoadReport r = new LoadBenchmark(new LoadBenchmark.Settings(TestServers.base(s), null, null, 4, 6, 16, 4,
                    Duration.ofMinutes(2), Duration.ZERO, rate, 0)).run();
            assertEquals(6, r.requests());
            // the last request is sent when it is due, so the run lasts at least that long (a bound, not a timing)
            assertTrue(r.seconds() >= LoadBenchmark.arrivals(rate, 6)[5], r.seconds() + " s");
        }
    }

    private static LoadReport report(int clients, double tokensPerSecond, double[] itl) {
        return new LoadReport("http://x", "m", clients, 8, 16, 0, 64, clients > 1 ? 0.4 : 0, 10, (long) (tokensPerSecond * 10), tokensPerSecond, 0.8,
                new double[] {1, 2, 3}, itl, null);
    }

    /**
     * A server that closes a request's first connection without a byte of response (as a kept-alive connection closed
     * by the server while it waits in the client's pool fails): the request is sent once more, on a new connection,
     * and counted as resent.
     */
    @Test
    void aRequestWhoseConnectionClosesBeforeAnyResponseIsSentOnceMore() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicInteger connections = new AtomicInteger();
            Thread server = Thread.ofVirtual().start(() -> serve(ss, connections, 1));
            LoadBenchmark b = new LoadBenchmark(rawSettings(ss));
            LoadReport r = b.measure();
            assertEquals(1, r.requests());
            assertEquals(2, r.outputTokens());
            assertEquals(1, b.resent());
            server.join(Duration.ofSeconds(10));
            assertEquals(2, connections.get(), "the dropped connection and the resend's");
        }
    }

    /** A request whose second attempt fails too fails the run with the client's message: no endless resending. */
    @Test
    void aRequestThatFailsTwiceFailsTheRun() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicInteger connections = new AtomicInteger();
            Thread server = Thread.ofVirtual().start(() -> serve(ss, connections, 2));
            LoadBenchmark b = new LoadBenchmark(rawSettings(ss));
            IOException e = assertThrows(IOException.class, b::measure);
            assertTrue(e.getMessage().startsWith("requests failed: "), e.getMessage());
            assertEquals(1, b.resent());
            server.join(Duration.ofSeconds(10));
            assertEquals(2, connections.get());
        }
    }

    /** A server slower than the timeout is not a closed connection: the request fails once, and is not resent. */
    @Test
    void aRequestThatTimesOutIsNotResent() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicInteger connections = new AtomicInteger();
            Thread server = Thread.ofVirtual().start(() -> {
                try (Socket so = ss.accept()) { // reads the request, never answers; closed when the client gives up
                    connections.incrementAndGet();
                    readRequest(so.getInputStream());
                    so.getInputStream().read();
                } catch (IOException e) {
                    // the test closed the listening socket
                }
            });
            LoadBenchmark b = new LoadBenchmark(rawSettings(ss, Duration.ofSeconds(1)));
            IOException e = assertThrows(IOException.class, b::measure);
            assertTrue(e.getMessage().startsWith("requests failed: "), e.getMessage());
            assertEquals(0, b.resent());
            server.join(Duration.ofSeconds(10));
            assertEquals(1, connections.get());
        }
    }

    private static LoadBenchmark.Settings rawSettings(ServerSocket ss) {
        return rawSettings(ss, Duration.ofSeconds(10));
    }

    private static LoadBenchmark.Settings rawSettings(ServerSocket ss, Duration timeout) {
        return new LoadBenchmark.Settings("http://127.0.0.1:" + ss.getLocalPort(), "m", null, 1, 1, 4, 2, timeout,
                Duration.ZERO, 0, 0);
    }

    /**
     * Accepts two connections, reads one request on each, closes the first {@code dropped} without answering and
     * answers the others with a two-token stream (the shape of OpenAI's, ending the body by closing the connection).
     */
    private static void serve(ServerSocket ss, AtomicInteger connections, int dropped) {
        try {
            for (int c = 0; c < 2; c++) {
                try (Socket so = ss.accept()) {
                    connections.incrementAndGet();
                    readRequest(so.getInputStream());
                    if (c >= dropped) {
                        OutputStream out = so.getOutputStream();
                        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                                + "data: {\"choices\":[{\"text\":\"a\"}]}\n\n"
                                + "data: {\"choices\":[{\"text\":\"b\"}]}\n\n"
                                + "data: {\"choices\":[{\"text\":\"\"}],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2}}\n\n"
                                + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Reads a request's header lines and its Content-Length bytes of body. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return;
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        in.readNBytes(length);
    }
}
