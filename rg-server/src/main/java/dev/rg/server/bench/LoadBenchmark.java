package dev.rg.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A load test for any OpenAI-compatible server: {@code clients} concurrent clients send {@code requests} streaming
 * text completions in total, each with a prompt of about {@code promptTokens} tokens (common words, the exact
 * count is taken from the server's usage) and {@code maxTokens} tokens to generate ({@code ignore_eos}, so every
 * request generates them all). Measures time to first token, the time between streamed tokens, output tokens
 * per second and requests per second.
 */
public final class LoadBenchmark {
    private static final String[] WORDS = ("the of and to a in that was her it his she he not be had as with for which you but"
            + " at on all my by have so this is would could very no said Mr Elizabeth Darcy Jane sister").split(" ");

    /**
     * What to run.
     *
     * @param url          the server's base URL, e.g. http://127.0.0.1:8080
     * @param model        the model name to send (null: the first one /v1/models lists)
     * @param apiKey       sent as a bearer token (null: none)
     */
    public record Settings(String url, String model, String apiKey, int clients, int requests, int promptTokens, int maxTokens,
            Duration timeout) {
        public Settings {
            if (clients < 1 || requests < 1 || promptTokens < 1 || maxTokens < 1) {
                throw new IllegalArgumentException("--clients, --requests, --prompt-tokens and --max-tokens must be >= 1");
            }
            if (!url.startsWith("http://") && !url.startsWith("https://")) {
                throw new IllegalArgumentException("--url must start with http:// or https://, got " + url);
            }
            url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        }
    }

    /** One request's measurements. */
    record Sample(double ttftSeconds, List<Double> gaps, int promptTokens, int completionTokens) {}

    private final Settings settings;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http;

    public LoadBenchmark(Settings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** Runs the load and summarises it. */
    public LoadReport run() throws IOException, InterruptedException {
        String model = settings.model() != null ? settings.model() : firstModel();
        AtomicInteger next = new AtomicInteger();
        List<Sample> samples = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(settings.clients())) {
            List<Future<List<Sample>>> clients = new ArrayList<>();
            for (int c = 0; c < settings.clients(); c++) {
                clients.add(pool.submit(() -> {
                    List<Sample> mine = new ArrayList<>();
                    for (int i = next.getAndIncrement(); i < settings.requests(); i = next.getAndIncrement()) {
                        mine.add(request(model, i));
                    }
                    return mine;
                }));
            }
            for (Future<List<Sample>> f : clients) {
                try {
                    samples.addAll(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    errors.add(e.getCause().getMessage());
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!errors.isEmpty()) {
            throw new IOException("requests failed: " + errors.getFirst() + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : ""));
        }
        return LoadReport.of(settings, model, seconds, samples);
    }

    private String firstModel() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(builder("/v1/models").GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + settings.url() + "/v1/models: HTTP " + r.statusCode() + " " + r.body());
        }
        JsonNode data = json.readTree(r.body()).path("data");
        if (!data.isArray() || data.isEmpty()) {
            throw new IOException("GET " + settings.url() + "/v1/models lists no model");
        }
        return data.get(0).path("id").asText();
    }

    private Sample request(String model, int index) throws IOException, InterruptedException {
        ObjectNode body = json.createObjectNode();
        body.put("model", model);
        body.put("prompt", prompt(index));
        body.put("max_tokens", settings.maxTokens());
        body.put("temperature", 0);
        body.put("ignore_eos", true);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        HttpRequest req = builder("/v1/completions").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))).build();
        long start = System.nanoTime();
        HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            String text = String.join("\n", r.body().toList());
            throw new IOException("POST " + settings.url() + "/v1/completions: HTTP " + r.statusCode() + " " + text);
        }
        double ttft = -1;
        long last = 0;
        List<Double> gaps = new ArrayList<>();
        int prompt = -1;
        int completion = -1;
        try (Stream<String> lines = r.body()) {
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data:")) {
                    continue;
                }
                String data = line.substring(5).trim();
                if (data.equals("[DONE]")) {
                    break;
                }
                JsonNode chunk = json.readTree(data);
                if (chunk.has("error")) {
                    throw new IOException("server error: " + chunk.get("error").path("message").asText());
                }
                JsonNode usage = chunk.get("usage");
                if (usage != null && usage.isObject()) {
                    prompt = usage.path("prompt_tokens").asInt();
                    completion = usage.path("completion_tokens").asInt();
                }
                JsonNode choices = chunk.path("choices");
                if (choices.isArray() && !choices.isEmpty() && !choices.get(0).path("text").asText().isEmpty()) {
                    long now = System.nanoTime();
                    if (ttft < 0) {
                        ttft = (now - start) / 1e9;
                    } else {
                        gaps.add((now - last) / 1e9);
                    }
                    last = now;
                }
            }
        }
        if (ttft < 0 || completion < 0) {
            throw new IOException("the stream of request " + index + " ended without tokens or usage");
        }
        return new Sample(ttft, gaps, prompt, completion);
    }

    /** About {@code promptTokens} common words, different for every request (so no prompt is a prefix of another). */
    private String prompt(int index) {
        SplittableRandom rnd = new SplittableRandom(index * 7919L + 1);
        StringBuilder sb = new StringBuilder("Request ").append(index).append(':');
        for (int i = 0; i < settings.promptTokens() - 4; i++) {
            sb.append(' ').append(WORDS[rnd.nextInt(WORDS.length)]);
        }
        return sb.toString();
    }

    private HttpRequest.Builder builder(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(settings.url() + path)).timeout(settings.timeout());
        if (settings.apiKey() != null) {
            b.header("Authorization", "Bearer " + settings.apiKey());
        }
        return b;
    }
}
