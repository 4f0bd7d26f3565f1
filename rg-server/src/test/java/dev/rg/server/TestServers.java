package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.RecurrentGemma;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Starts rg serve on the embedded model, bound to 127.0.0.1 on an ephemeral port, and reads its metrics. */
final class TestServers {
    static final String MODEL = "austen-6m";
    private static final String[] WORDS = {"Elizabeth", "Darcy", "the", "house", "said", "was", "a", "fine", "morning",
        "Mr.", "Bennet", "sister", "letter", "Netherfield", "walk", "ball", "her", "mother", "and", "of"};

    private TestServers() {}

    /** Bytes of one sequence's state of {@code m} (what a state cache entry costs). */
    static long stateBytes(Model m) {
        try (ModelState probe = m.newState(1)) {
            return probe.stateBytes();
        }
    }

    static Path austen() {
        Path p = Path.of(System.getProperty("rg.shared", "../../shared")).resolve("models").resolve(MODEL).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("the embedded model is not at " + p + " (set -Drg.shared)");
        }
        return p;
    }

    static ServerOptions options() {
        return ServerOptions.defaults(MODEL).withPort(0);
    }

    static RgServer start(ServerOptions options) {
        RgServer s = RgServer.start(options, () -> RecurrentGemma.load(austen(), LoadOptions.defaults().withThreads(1)));
        s.awaitReady(Duration.ofMinutes(2));
        return s;
    }

    static String base(RgServer s) {
        return "http://127.0.0.1:" + s.port();
    }

    static String metrics(RgServer s) throws IOException, InterruptedException {
        try (HttpClient c = HttpClient.newHttpClient()) {
            return c.send(HttpRequest.newBuilder(URI.create(base(s) + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    /** The value of a sample line {@code name value} (labels included in {@code name}), or -1 if absent. */
    static double metric(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+-]+)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /** Polls /metrics (bounded: 30 s) until {@code name} reaches {@code value}. */
    static void waitFor(RgServer s, String name, double value) throws Exception {
        double v = -1;
        for (int i = 0; i < 300; i++) {
            v = metric(metrics(s), name);
            if (v == value) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(name + " is " + v + ", expected " + value);
    }

    /**
     * {@code n} greedy completion requests for the embedded model: prompts of 1 to {@code maxWords} random words of its
     * world, {@code minTokens} to {@code minTokens + 19} tokens to generate.
     */
    static List<CompletionCreateParams> randomGreedyRequests(Random rnd, int n, int maxWords, int minTokens) {
        List<CompletionCreateParams> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            requests.add(CompletionCreateParams.builder().model(MODEL).prompt(randomWords(rnd, 1 + rnd.nextInt(maxWords)))
                    .maxTokens(minTokens + rnd.nextInt(20)).temperature(0.0).build());
        }
        return requests;
    }

    /** {@code count} random words of the embedded model's world, separated by spaces. */
    static String randomWords(Random rnd, int count) {
        StringBuilder text = new StringBuilder();
        for (int w = count; w > 0; w--) {
            text.append(WORDS[rnd.nextInt(WORDS.length)]).append(' ');
        }
        return text.toString().strip();
    }

    /** An OpenAI SDK client of {@code s} that never retries (a retry would hide a failure). */
    static OpenAIClient client(RgServer s) {
        return OpenAIOkHttpClient.builder().baseUrl(base(s) + "/v1").apiKey("unused").maxRetries(0).build();
    }

    /** A greedy stream that ends after a million tokens, started: while it is open, somebody is always decoding. */
    static StreamResponse<Completion> endless(OpenAIClient c) {
        StreamResponse<Completion> stream = c.completions().createStreaming(CompletionCreateParams.builder()
                .model(MODEL).prompt("It is a truth").maxTokens(1_000_000).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
        Iterator<Completion> it = stream.stream().iterator();
        assertTrue(it.hasNext(), "the endless stream started");
        it.next();
        return stream;
    }

    /** Three greedy chat turns of 12 tokens, each answer added to the conversation of the next. */
    static List<ChatCompletion> converse(OpenAIClient c) {
        List<ChatCompletion> out = new ArrayList<>();
        ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(MODEL)
                .maxCompletionTokens(12).temperature(0.0);
        for (String user : TURNS) {
            p.addUserMessage(user);
            ChatCompletion r = c.chat().completions().create(p.build());
            out.add(r);
            p.addAssistantMessage(r.choices().getFirst().message().content().orElseThrow());
        }
        return out;
    }

    /** The user turns of {@link #converse}. */
    static final String[] TURNS = {"Who is Mr. Darcy?", "And Elizabeth?", "Where do they live?"};

    /**
     * Sends {@code requests} all at once (each on its own thread) and asserts that each gets the text and usage of
     * {@code alone} (the same requests answered one by one); returns their prompt tokens.
     */
    static long sendAtOnceAndCompare(OpenAIClient c, List<CompletionCreateParams> requests, List<Completion> alone, String what)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(requests.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Completion>> fs = new ArrayList<>();
            for (CompletionCreateParams r : requests) {
                fs.add(pool.submit(() -> {
                    go.await();
                    return c.completions().create(r);
                }));
            }
            go.countDown();
            long promptTokens = 0;
            for (int i = 0; i < requests.size(); i++) {
                Completion got = fs.get(i).get(2, TimeUnit.MINUTES);
                String where = what + ", request " + i;
                assertEquals(alone.get(i).choices().getFirst().text(), got.choices().getFirst().text(), where);
                assertEquals(alone.get(i).usage().orElseThrow().promptTokens(), got.usage().orElseThrow().promptTokens(), where);
                assertEquals(alone.get(i).usage().orElseThrow().completionTokens(), got.usage().orElseThrow().completionTokens(), where);
                promptTokens += got.usage().orElseThrow().promptTokens();
            }
            return promptTokens;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The embedded model loaded beside a server, on its default backend, to recompute what the server answers. */
    static RecurrentGemma austenModel() {
        return RecurrentGemma.load(austen(), LoadOptions.defaults().withThreads(1));
    }

    /** {@code log_softmax} in double of {@code logits[offset .. offset+n)}, around its maximum. */
    static double[] logSoftmax(float[] logits, int offset, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = logits[offset + i] - lse;
        }
        return out;
    }
}
