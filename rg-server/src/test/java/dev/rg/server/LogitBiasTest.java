package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.tokenizer.PieceType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code logit_bias} through the OpenAI Java SDK: -100 bans a token (greedy then takes the next most likely, found
 * here with rg-core), +100 forces one, through top-k sampling too (the bias can lift a token into the top k, so such a
 * request samples from the whole row); reported logprobs stay the model's own.
 */
class LogitBiasTest {
    private static final String PROMPT = "It is a truth";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RgServer server;
    private static OpenAIClient client;
    private static RecurrentGemma model;

    @BeforeAll
    static void start() {
        server = TestServers.start(TestServers.options());
        client = TestServers.client(server);
        model = TestServers.austenModel();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
        model.close();
    }

    /** The model's logits after {@link #PROMPT} (with BOS). */
    private static float[] firstLogits() {
        int[] body = model.tokenize(PROMPT);
        int[] ids = new int[body.length + 1];
        ids[0] = model.tokenizer().bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        try (ModelState s = model.newState(1)) {
            Tensor t = model.model().griffin().forward(s, ids, ids.length, Outputs.LAST);
            float[] row = new float[Math.toIntExact(t.size())];
            model.model().backend().download(t, row);
            return row;
        }
    }

    private static int argmaxExcept(float[] row, int except) {
        int best = -1;
        for (int i = 0; i < row.length; i++) {
            if (i != except && (best < 0 || row[i] > row[best])) {
                best = i;
            }
        }
        return best;
    }

    private static String text(int id) {
        return new String(model.tokenizer().tokenBytes(id), StandardCharsets.UTF_8);
    }

    private static CompletionCreateParams.Builder greedy(int maxTokens) {
        return CompletionCreateParams.builder().model(TestServers.MODEL).prompt(PROMPT).maxTokens(maxTokens).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
    }

    private static CompletionCreateParams.LogitBias bias(int id, int value) {
        return CompletionCreateParams.LogitBias.builder().putAdditionalProperty(Integer.toString(id), JsonValue.from(value)).build();
    }

    /** A plain word piece, not among the prompt's most likely continuations. */
    private static int someWordToken(float[] row) {
        for (int id = 1000; ; id++) {
            if (model.tokenizer().pieceType(id) == PieceType.NORMAL && text(id).strip().length() >= 3 && row[id] < row[argmaxExcept(row, -1)] - 3) {
                return id;
            }
        }
    }

    @Test
    void minusOneHundredBansTheGreedyTokenAndPlusOneHundredForcesOne() {
        float[] row = firstLogits();
        int first = argmaxExcept(row, -1);
        int second = argmaxExcept(row, first);
        Completion plain = client.completions().create(greedy(1).build());
        assertEquals(text(first), plain.choices().getFirst().text(), "without bias: the most likely token");
        Completion banned = client.completions().create(greedy(1).logitBias(bias(first, -100)).build());
        assertEquals(text(second), banned.choices().getFirst().text(), "-100 bans it: the next most likely");

        int forced = someWordToken(row);
        Completion f = client.completions().create(greedy(4).logitBias(bias(forced, 100)).logprobs(0L).build());
        assertEquals(text(forced).repeat(4), f.choices().getFirst().text(), "+100 forces it at every step");
        double reported = f.choices().getFirst().logprobs().orElseThrow().tokenLogprobs().orElseThrow().getFirst();
        assertEquals(TestServers.logSoftmax(row, 0, row.length)[forced], reported, 1e-4, "the logprob is the model's, not the biased one");
    }

    @Test
    void aBiasReachesTopKSampling() {
        int forced = someWordToken(firstLogits());
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL).prompt(PROMPT)
                .maxTokens(5).temperature(1.0).seed(11L).putAdditionalBodyProperty("top_k", JsonValue.from(40))
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).logitBias(bias(forced, 100)).build());
        assertEquals(text(forced).repeat(5), c.choices().getFirst().text());
    }

    @Test
    void badBiasesAreRefusedNamingLogitBias() throws Exception {
        List<String> bad = List.of("{\"abc\": 1}", "{\"5\": 101}", "{\"5\": \"x\"}", "{\"-1\": 1}", "{\"99999999\": 1}", "[1, 2]");
        try (HttpClient h = HttpClient.newHttpClient()) {
            for (String b : bad) {
                String body = "{\"prompt\": \"hi\", \"max_tokens\": 2, \"logit_bias\": " + b + "}";
                HttpResponse<String> r = h.send(HttpRequest.newBuilder(URI.create(TestServers.base(server) + "/v1/completions"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(400, r.statusCode(), b + " -> " + r.body());
                assertEquals("logit_bias", JSON.readTree(r.body()).get("error").get("param").asText(), r.body());
                assertTrue(JSON.readTree(r.body()).get("error").get("message").asText().contains("logit_bias"), r.body());
            }
        }
    }
}
