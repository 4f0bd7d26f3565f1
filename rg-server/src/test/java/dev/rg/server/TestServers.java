package dev.rg.server;

import com.openai.models.completions.CompletionCreateParams;
import dev.rg.core.model.LoadOptions;
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
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Starts rg serve on the embedded model, bound to 127.0.0.1 on an ephemeral port, and reads its metrics. */
final class TestServers {
    static final String MODEL = "austen-6m";
    private static final String[] WORDS = {"Elizabeth", "Darcy", "the", "house", "said", "was", "a", "fine", "morning",
        "Mr.", "Bennet", "sister", "letter", "Netherfield", "walk", "ball", "her", "mother", "and", "of"};

    private TestServers() {}

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

    /**
     * {@code n} greedy completion requests for the embedded model: prompts of 1 to {@code maxWords} random words of its
     * world, {@code minTokens} to {@code minTokens + 19} tokens to generate.
     */
    static List<CompletionCreateParams> randomGreedyRequests(Random rnd, int n, int maxWords, int minTokens) {
        List<CompletionCreateParams> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder prompt = new StringBuilder();
            for (int w = 1 + rnd.nextInt(maxWords); w > 0; w--) {
                prompt.append(WORDS[rnd.nextInt(WORDS.length)]).append(' ');
            }
            requests.add(CompletionCreateParams.builder().model(MODEL).prompt(prompt.toString().strip())
                    .maxTokens(minTokens + rnd.nextInt(20)).temperature(0.0).build());
        }
        return requests;
    }
}
