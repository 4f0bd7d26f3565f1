package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import dev.rg.api.tensor.Tensor;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.Griffin;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;
import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-token log-probabilities through the official OpenAI Java SDK ({@code logprobs}, {@code top_logprobs} on chat,
 * {@code logprobs: N} on completions): each is {@code log_softmax} of the model's own logits at that position, computed
 * here independently with rg-core on the embedded model, within the float32 tolerance; streamed or not they are the
 * same; asking for them never changes which tokens are sampled.
 */
class LogprobsTest {
    private static final double TOLERANCE = 1e-4;
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

    /** One position's expected distribution: every token's log-probability, and the texts of the most likely ones. */
    private record Position(double[] logprobs, int[] order) {
        List<String> topTexts(GemmaTokenizer t, int n) {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                texts.add(text(t, order[i]));
            }
            return texts;
        }
    }

    private static Position position(float[] row) {
        double[] lp = TestServers.logSoftmax(row, 0, row.length);
        Integer[] ids = new Integer[row.length];
        for (int i = 0; i < row.length; i++) {
            ids[i] = i;
        }
        Arrays.sort(ids, (a, b) -> Double.compare(lp[b], lp[a]));
        return new Position(lp, Arrays.stream(ids).mapToInt(Integer::intValue).toArray());
    }

    private static String text(GemmaTokenizer t, int id) {
        return new String(t.tokenBytes(id), StandardCharsets.UTF_8);
    }

    /** The id of the token {@code e} names: the one with its bytes and, at this position, its logprob. */
    private static int id(ChatCompletionTokenLogprob e, Position p, int i) {
        byte[] bytes = bytes(e.bytes().orElseThrow());
        for (int id = 0; id < p.logprobs().length; id++) {
            if (Arrays.equals(model.tokenizer().tokenBytes(id), bytes) && Math.abs(p.logprobs()[id] - e.logprob()) <= TOLERANCE) {
                return id;
            }
        }
        throw new AssertionError("token " + i + " '" + e.token() + "' (logprob " + e.logprob() + ") is no token of that"
                + " probability at its position");
    }

    private static byte[] bytes(List<Long> values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        values.forEach(v -> out.write(v.intValue()));
        return out.toByteArray();
    }

    /**
     * Checks every entry against the model's distribution, fed the reply's tokens one by one: its logprob, and its
     * alternatives' texts and logprobs, most likely first (near-ties may swap places: each alternative's logprob is
     * compared with the expected one of that rank).
     */
    private static void assertMatchesModel(List<ChatCompletionTokenLogprob> entries, int[] prompt, int top) {
        GemmaTokenizer t = model.tokenizer();
        Griffin g = model.model().griffin();
        try (ModelState s = model.newState(1)) {
            // the model's distribution after the prompt, then after each reply token in turn
            Tensor logits = g.forward(s, prompt, prompt.length, Outputs.LAST);
            for (int i = 0; i < entries.size(); i++) {
                float[] row = new float[Math.toIntExact(logits.size())];
                model.model().backend().download(logits, row);
                Position p = position(row);
                ChatCompletionTokenLogprob e = entries.get(i);
                String where = "token " + i + " '" + e.token() + "'";
                int id = id(e, p, i);
                assertEquals(p.logprobs()[id], e.logprob(), TOLERANCE, where);
                assertTrue(e.logprob() <= 0, where);
                assertEquals(top, e.topLogprobs().size(), where + ": alternatives");
                List<String> expectedTexts = p.topTexts(t, top);
                for (int r = 0; r < top; r++) {
                    var alt = e.topLogprobs().get(r);
                    assertEquals(p.logprobs()[p.order()[r]], alt.logprob(), TOLERANCE, where + ", alternative " + r);
                    assertTrue(expectedTexts.contains(alt.token())
                            || Math.abs(alt.logprob() - p.logprobs()[p.order()[top]]) <= TOLERANCE,
                            where + ", alternative " + r + " '" + alt.token() + "' is not among " + expectedTexts);
                    assertEquals(alt.token(), new String(bytes(alt.bytes().orElseThrow()), StandardCharsets.UTF_8));
                }
                logits = g.forward(s, new int[] {id}, 1, Outputs.LAST);
            }
        }
    }

    private static int[] chatPrompt(String user) {
        return new ChatTemplate(model.tokenizer()).encode(List.of(ChatTemplate.Message.user(user)), true);
    }

    private static String joined(List<ChatCompletionTokenLogprob> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ChatCompletionTokenLogprob e : entries) {
            out.writeBytes(bytes(e.bytes().orElseThrow()));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void greedyChatLogprobsAreTheModelsOwnAndStreamTheSame() {
        String user = "Tell me about Elizabeth.";
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model(TestServers.MODEL).addUserMessage(user)
                .maxCompletionTokens(10).temperature(0.0).logprobs(true).topLogprobs(4).build();
        ChatCompletion c = client.chat().completions().create(p);
        var choice = c.choices().getFirst();
        List<ChatCompletionTokenLogprob> entries = choice.logprobs().orElseThrow().content().orElseThrow();
        long completion = c.usage().orElseThrow().completionTokens();
        boolean endOfTurn = choice.finishReason().asString().equals("stop");
        assertEquals(completion - (endOfTurn ? 1 : 0), entries.size(), "one entry per generated token but end of turn");
        assertEquals(choice.message().content().orElseThrow(), joined(entries), "the entries' bytes spell the reply");
        for (ChatCompletionTokenLogprob e : entries) {
            assertEquals(e.topLogprobs().getFirst().token(), e.token(), "greedy: each token is its position's most likely");
            assertEquals(e.topLogprobs().getFirst().logprob(), e.logprob(), 0.0);
        }
        assertMatchesModel(entries, chatPrompt(user), 4);

        List<ChatCompletionTokenLogprob> streamed = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                ch.delta().content().ifPresent(text::append);
                ch.logprobs().flatMap(ChatCompletionChunk.Choice.Logprobs::content).ifPresent(streamed::addAll);
            }));
        }
        assertEquals(choice.message().content().orElseThrow(), text.toString());
        // the second request resumes from the state the first left in the cache: the same tokens, logprobs within the
        // float32 tolerance (its prompt was prefilled in other chunks)
        assertSameEntries(entries, streamed);
    }

    private static void assertSameEntries(List<ChatCompletionTokenLogprob> expected, List<ChatCompletionTokenLogprob> actual) {
        assertEquals(expected.size(), actual.size(), "entries");
        for (int i = 0; i < expected.size(); i++) {
            ChatCompletionTokenLogprob a = expected.get(i);
            ChatCompletionTokenLogprob b = actual.get(i);
            String where = "token " + i;
            assertEquals(a.token(), b.token(), where);
            assertEquals(a.bytes(), b.bytes(), where);
            assertEquals(a.logprob(), b.logprob(), TOLERANCE, where);
            assertEquals(a.topLogprobs().size(), b.topLogprobs().size(), where);
            for (int r = 0; r < a.topLogprobs().size(); r++) {
                assertEquals(a.topLogprobs().get(r).logprob(), b.topLogprobs().get(r).logprob(), TOLERANCE, where + ", alternative " + r);
            }
        }
    }

    @Test
    void sampledChatWithPenaltiesReportsTheRawDistributionAndSamplesAsWithout() {
        String user = "Who is Mr. Bennet?";
        ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(TestServers.MODEL).addUserMessage(user)
                .maxCompletionTokens(12).temperature(1.3).seed(20261206L).frequencyPenalty(1.5).presencePenalty(0.5);
        ChatCompletion without = client.chat().completions().create(p.build());
        ChatCompletion with = client.chat().completions().create(p.logprobs(true).topLogprobs(2).build());
        String text = with.choices().getFirst().message().content().orElseThrow();
        assertEquals(without.choices().getFirst().message().content().orElseThrow(), text,
                "asking for logprobs does not change the draw");
        List<ChatCompletionTokenLogprob> entries = with.choices().getFirst().logprobs().orElseThrow().content().orElseThrow();
        assertEquals(text, joined(entries));
        // the penalties shaped the draw, not the reported distribution: each logprob is the model's raw one
        assertMatchesModel(entries, chatPrompt(user), 2);
    }

    @Test
    void topKSamplingWithLogprobsDrawsTheTokensItDrawsWithout() {
        CompletionCreateParams.Builder p = CompletionCreateParams.builder().model(TestServers.MODEL).prompt("Elizabeth walked")
                .maxTokens(16).temperature(0.9).seed(7L).putAdditionalBodyProperty("top_k", JsonValue.from(40));
        Completion without = client.completions().create(p.build());
        Completion with = client.completions().create(p.logprobs(1L).build());
        CompletionChoice choice = with.choices().getFirst();
        assertEquals(without.choices().getFirst().text(), choice.text(),
                "top-k drawn on the device without logprobs, on the host with them: the same tokens");
        List<String> tokens = choice.logprobs().orElseThrow().tokens().orElseThrow();
        long generated = with.usage().orElseThrow().completionTokens();
        assertEquals(generated - (choice.finishReason().asString().equals("stop") ? 1 : 0), tokens.size());
        assertEquals(choice.text(), String.join("", tokens));
    }

    @Test
    void completionsLogprobsHaveTokensOffsetsAndAlternativesStreamedOrNot() {
        CompletionCreateParams p = CompletionCreateParams.builder().model(TestServers.MODEL).prompt("It is a truth universally")
                .maxTokens(12).temperature(0.0).logprobs(3L).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build();
        Completion c = client.completions().create(p);
        CompletionChoice choice = c.choices().getFirst();
        CompletionChoice.Logprobs lp = choice.logprobs().orElseThrow();
        List<String> tokens = lp.tokens().orElseThrow();
        List<Double> logprobs = lp.tokenLogprobs().orElseThrow();
        List<Long> offsets = lp.textOffset().orElseThrow();
        assertEquals(12, tokens.size());
        assertEquals(choice.text(), String.join("", tokens), "the tokens spell the text");
        long at = 0;
        for (int i = 0; i < tokens.size(); i++) {
            assertEquals(at, offsets.get(i), "text_offset of token " + i);
            at += tokens.get(i).length();
            Map<String, JsonValue> alternatives = lp.topLogprobs().orElseThrow().get(i)._additionalProperties();
            assertTrue(alternatives.size() >= 1 && alternatives.size() <= 3, alternatives.toString());
            double best = alternatives.values().stream().mapToDouble(v -> ((Number) v.asNumber().orElseThrow()).doubleValue())
                    .max().orElseThrow();
            assertEquals(best, logprobs.get(i), 0.0, "greedy: token " + i + " is its position's most likely");
        }

        List<String> streamedTokens = new ArrayList<>();
        List<Long> streamedOffsets = new ArrayList<>();
        try (StreamResponse<Completion> s = client.completions().createStreaming(p)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.logprobs().ifPresent(l -> {
                streamedTokens.addAll(l.tokens().orElseThrow());
                streamedOffsets.addAll(l.textOffset().orElseThrow());
            })));
        }
        assertEquals(tokens, streamedTokens);
        assertEquals(offsets, streamedOffsets, "a stream's offsets continue from chunk to chunk");
    }

    @Test
    void badLogprobsParametersAreRefusedNamingTheParameter() throws Exception {
        Map<String, String> bad = new HashMap<>();
        bad.put("/v1/chat/completions|{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logprobs\":true,\"top_logprobs\":21}",
                "top_logprobs");
        bad.put("/v1/chat/completions|{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_logprobs\":2}", "top_logprobs");
        bad.put("/v1/chat/completions|{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logprobs\":\"yes\"}", "logprobs");
        bad.put("/v1/completions|{\"prompt\":\"hi\",\"logprobs\":6}", "logprobs");
        bad.put("/v1/completions|{\"prompt\":\"hi\",\"logprobs\":-1}", "logprobs");
        try (HttpClient h = HttpClient.newHttpClient()) {
            for (var e : bad.entrySet()) {
                String[] pathBody = e.getKey().split("\\|", 2);
                HttpResponse<String> r = h.send(HttpRequest.newBuilder(URI.create(TestServers.base(server) + pathBody[0]))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(pathBody[1])).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(400, r.statusCode(), pathBody[1] + " -> " + r.body());
                JsonNode err = JSON.readTree(r.body()).get("error");
                assertEquals(e.getValue(), err.get("param").asText(), r.body());
            }
        }
    }
}
