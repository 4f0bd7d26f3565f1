package dev.rg.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
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
 *
 * <p>Before the measured requests, {@link #warmUp} sends unmeasured ones (the same prompt length, at most
 * {@link #WARMUP_TOKENS} tokens each, by all {@code clients}) for {@code warmup} and at least one per client, so the
 * measured requests find the server's code compiled for this load: a JVM server compiles its hot paths over thousands
 * of steps (the embedded model served one client at 270 tok/s after one 8-token warm-up request and at 1,100-1,350
 * once warm). Warm-up prompts are numbered after the measured ones, so no measured prompt repeats one.
 *
 * <p>Arrivals: by default each client sends its next request as soon as its last one ended (a closed loop: clients
 * whose requests are alike stay in step and arrive in bursts). With {@code requestRate} &gt; 0 the measured requests
 * are instead due at the times of a Poisson process of that rate (fixed seed, so every run has the same schedule,
 * as vLLM's {@code benchmark_serving --request-rate}); a request is sent when it is due and a client is free, so
 * {@code clients} bounds the concurrency. Requests then arrive while others decode, as on a real server.
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
     * @param warmup       how long to send unmeasured requests before the measured ones (zero: none)
     * @param requestRate  measured requests per second arriving as a Poisson process (0: closed loop, see the class comment)
     * @param systemTokens about this many tokens of one system message that every request starts with, sent as chat
     *                     completions (applications send fixed instructions this way); 0: text completions, no system
     *                     message
     */
    public record Settings(String url, String model, String apiKey, int clients, int requests, int promptTokens, int maxTokens,
            Duration timeout, Duration warmup, double requestRate, int systemTokens) {
        public Settings {
            if (systemTokens < 0 || systemTokens > MAX_PROMPT_TOKENS) {
                throw new IllegalArgumentException("--system-tokens must be in [0, " + MAX_PROMPT_TOKENS + "], got " + systemTokens);
            }
            if (!(requestRate >= 0 && requestRate <= 1e6)) {
                throw new IllegalArgumentException("--request-rate must be in [0, 1000000] requests per second, got " + requestRate);
            }
            if (clients < 1 || requests < 1 || promptTokens < 1 || maxTokens < 1) {
                throw new IllegalArgumentException("--clients, --requests, --prompt-tokens and --max-tokens must be >= 1");
            }
            if (clients > MAX_CLIENTS || requests > MAX_REQUESTS || promptTokens > MAX_PROMPT_TOKENS) {
                throw new IllegalArgumentException("--clients must be <= " + MAX_CLIENTS + ", --requests <= " + MAX_REQUESTS
                        + " and --prompt-tokens <= " + MAX_PROMPT_TOKENS + ", got " + clients + ", " + requests + ", " + promptTokens);
            }
            if (warmup.isNegative() || warmup.compareTo(MAX_WARMUP) > 0) {
                throw new IllegalArgumentException("--warmup-seconds must be in [0, " + MAX_WARMUP.toSeconds() + "], got "
                        + warmup.toSeconds());
            }
            if (!url.startsWith("http://") && !url.startsWith("https://")) {
                throw new IllegalArgumentException("--url must start with http:// or https://, got " + url);
            }
            url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        }
    }

    /** Bounds on the settings: each client is a thread, each request's samples are kept. */
    static final int MAX_CLIENTS = 4096;
    static final int MAX_REQUESTS = 1_000_000;
    static final int MAX_PROMPT_TOKENS = 1_000_000;
    static final Duration MAX_WARMUP = Duration.ofHours(1);
    /**
     * Tokens generated by a warm-up request (fewer if {@code maxTokens} is smaller): short, so that the warm-up ends
     * soon after its time even where a step takes half a second, and it still runs many decode steps.
     */
    static final int WARMUP_TOKENS = 16;

    /** One request's measurements. */
    record Sample(double ttftSeconds, List<Double> gaps, int promptTokens, int completionTokens, int cachedTokens) {}

    private final Settings settings;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http;
    /** Requests sent a second time because the first attempt's connection closed before any byte of a response. */
    private final AtomicInteger resent = new AtomicInteger();
    private String model;

    public LoadBenchmark(Settings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /**
     * Requests (warm-up and measured) sent a second time, on another connection, because the first attempt failed
     * before any byte of a response arrived: a kept-alive connection that the server closed while it waited in the
     * client's pool fails that way, and the JDK's client retries only idempotent methods by itself. A request that
     * fails twice fails the run.
     */
    public int resent() {
        return resent.get();
    }

    /** Runs the warm-up, then the measured load, and summarises the measured part. */
    public LoadReport run() throws IOException, InterruptedException {
        warmUp();
        return measure();
    }

    /**
     * Sends unmeasured requests with every client until {@code warmup} has passed (each client finishes the request it
     * is in, and sends at least one); nothing when {@code warmup} is zero. Returns the requests sent.
     */
    public int warmUp() throws IOException, InterruptedException {
        if (settings.warmup().isZero()) {
            return 0;
        }
        long deadline = System.nanoTime() + settings.warmup().toNanos();
        return load(model(), settings.clients(), Integer.MAX_VALUE, settings.requests(), Math.min(WARMUP_TOKENS, settings.maxTokens()),
                null, deadline).size();
    }

    /** The measured load, summarised. */
    public LoadReport measure() throws IOException, InterruptedException {
        String model = model();
        double[] due = settings.requestRate() > 0 ? arrivals(settings.requestRate(), settings.requests()) : null;
        var before = dev.rg.core.runtime.MachineLoad.sample();
        long t0 = System.nanoTime();
        List<Sample> samples = load(model, settings.clients(), settings.requests(), 0, settings.maxTokens(), due, Long.MAX_VALUE);
        double seconds = (System.nanoTime() - t0) / 1e9;
        return LoadReport.of(settings, model, seconds, samples,
                dev.rg.core.runtime.MachineLoad.between(before, dev.rg.core.runtime.MachineLoad.sample()).orElse(null));
    }

    private String model() throws IOException, InterruptedException {
        if (model == null) {
            model = settings.model() != null ? settings.model() : firstModel();
        }
        return model;
    }

    /** Seed of the arrival schedule: the same for every run, so runs compare like with like. */
    static final long ARRIVAL_SEED = 2014;

    /**
     * When each of {@code n} requests is due, in seconds from the start: a Poisson process of {@code rate} per second
     * (exponential gaps with mean 1 / rate), the first due at its first gap.
     */
    public static double[] arrivals(double rate, int n) {
        SplittableRandom rnd = new SplittableRandom(ARRIVAL_SEED);
        double[] due = new double[n];
        double t = 0;
        for (int i = 0; i < n; i++) {
            t += -Math.log(1 - rnd.nextDouble()) / rate;
            due[i] = t;
        }
        return due;
    }

    /**
     * {@code clients} concurrent clients send {@code requests} requests in all (prompts {@code firstIndex} on), each
     * sending its next one as soon as its last one ended, or, with {@code due}, when request i is due
     * ({@code due[i]} seconds after the start) and not before; a client sends no further request once {@code deadline}
     * ({@link System#nanoTime}) has passed, after its first.
     */
    private List<Sample> load(String model, int clients, int requests, int firstIndex, int maxTokens, double[] due, long deadline)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        AtomicInteger next = new AtomicInteger();
        List<Sample> samples = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<List<Sample>>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                futures.add(pool.submit(() -> {
                    List<Sample> mine = new ArrayList<>();
                    for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                        if (!mine.isEmpty() && System.nanoTime() - deadline > 0) {
                            break;
                        }
                        if (due != null) {
                            long wait = start + (long) (due[i] * 1e9) - System.nanoTime();
                            if (wait > 0) {
                                Thread.sleep(Duration.ofNanos(wait));
                            }
                        }
                        mine.add(request(model, firstIndex + i, maxTokens));
                    }
                    return mine;
                }));
            }
            for (Future<List<Sample>> f : futures) {
                try {
                    samples.addAll(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    errors.add(e.getCause().getMessage());
                }
            }
        }
        if (!errors.isEmpty()) {
            throw new IOException("requests failed: " + errors.getFirst() + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : ""));
        }
        return samples;
    }

    private String firstModel() throws IOException, InterruptedException {
        HttpResponse<String> r;
        try {
            r = http.send(builder("/v1/models").GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            // the JDK's client says only "ConnectException" (no message, a ClosedChannelException inside)
            throw new IOException("cannot connect to " + settings.url() + " (is a server listening there?)", e);
        }
        if (r.statusCode() != 200) {
            throw new IOException("GET " + settings.url() + "/v1/models: HTTP " + r.statusCode() + " " + r.body());
        }
        JsonNode data = json.readTree(r.body()).path("data");
        if (!data.isArray() || data.isEmpty()) {
            throw new IOException("GET " + settings.url() + "/v1/models lists no model");
        }
        return data.get(0).path("id").asText();
    }

    private Sample request(String model, int index, int maxTokens) throws IOException, InterruptedException {
        ObjectNode body = json.createObjectNode();
        body.put("model", model);
        boolean chat = settings.systemTokens() > 0;
        String path = chat ? "/v1/chat/completions" : "/v1/completions";
        if (chat) {
            ArrayNode messages = body.putArray("messages");
            messages.addObject().put("role", "system").put("content", systemMessage());
            messages.addObject().put("role", "user").put("content", prompt(index));
        } else {
            body.put("prompt", prompt(index));
        }
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0);
        body.put("ignore_eos", true);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        HttpRequest req = builder(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))).build();
        long start = System.nanoTime(); // before a resend too: its time counts in the time to first token
        HttpResponse<Stream<String>> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofLines());
        } catch (HttpTimeoutException slow) {
            throw slow; // the server took longer than --timeout: not a closed connection, and resending would wait again
        } catch (IOException noResponse) { // send() returns once the headers are in: nothing of a response came
            resent.incrementAndGet();
            try {
                r = http.send(req, HttpResponse.BodyHandlers.ofLines());
            } catch (java.net.ConnectException e) {
                throw new IOException("cannot connect to " + settings.url() + " (the server went away?)", e);
            }
        }
        if (r.statusCode() != 200) {
            String text = String.join("\n", r.body().toList());
            throw new IOException("POST " + settings.url() + path + ": HTTP " + r.statusCode() + " " + text);
        }
        double ttft = -1;
        long last = 0;
        List<Double> gaps = new ArrayList<>();
        int prompt = -1;
        int completion = -1;
        int cached = 0;
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
                    cached = usage.path("prompt_tokens_details").path("cached_tokens").asInt(0);
                }
                JsonNode choices = chunk.path("choices");
                JsonNode choice = choices.isArray() && !choices.isEmpty() ? choices.get(0) : null;
                String piece = choice == null ? "" : chat ? choice.path("delta").path("content").asText("") : choice.path("text").asText("");
                if (!piece.isEmpty()) {
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
        return new Sample(ttft, gaps, prompt, completion, cached);
    }

    /** About {@code systemTokens} common words, the same for every request. */
    private String systemMessage() {
        SplittableRandom rnd = new SplittableRandom(17);
        StringBuilder sb = new StringBuilder("Instructions:");
        for (int i = 0; i < settings.systemTokens() - 3; i++) {
            sb.append(' ').append(WORDS[rnd.nextInt(WORDS.length)]);
        }
        return sb.toString();
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
