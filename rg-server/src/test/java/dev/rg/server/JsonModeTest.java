package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.JsonPrefix;
import dev.rg.core.tokenizer.GemmaTokenizer;
import dev.rg.core.tokenizer.PieceType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * JSON mode ({@code response_format: {"type": "json_object"}}) through the OpenAI Java SDK on the embedded model, which
 * was trained on novels and never on JSON: every reply is still a prefix of a JSON object, and a reply that ends with
 * {@code stop} is a whole one (Jackson, strict, is the judge); streamed replies equal whole ones; a schema is refused.
 */
class JsonModeTest extends OneServerTest {
    private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static ChatCompletionCreateParams.Builder chat(long seed) {
        return ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                .addUserMessage("Describe Mr. Darcy as a JSON object.").maxCompletionTokens(60).temperature(1.0).seed(seed)
                .responseFormat(ResponseFormatJsonObject.builder().build());
    }

    /** A whole JSON object (and the reply ended with "stop"), or a prefix of one (and it ran out of tokens). */
    private static void assertJsonReply(String text, String finishReason) {
        JsonPrefix p = new JsonPrefix();
        boolean prefix = p.feed(text.getBytes(StandardCharsets.UTF_8));
        assertTrue(prefix, "a prefix of a JSON object: " + text);
        if (finishReason.equals("stop")) {
            try {
                assertTrue(STRICT.readTree(text).isObject(), text);
            } catch (IOException e) {
                throw new AssertionError("not a JSON object: " + text, e);
            }
        } else {
            assertEquals("length", finishReason);
        }
    }

    @Test
    void sampledAndGreedyRepliesAreJsonObjects() {
        for (long seed = 1; seed <= 8; seed++) {
            ChatCompletion c = client.chat().completions().create(chat(seed).build());
            var choice = c.choices().getFirst();
            assertJsonReply(choice.message().content().orElseThrow(), choice.finishReason().asString());
        }
        ChatCompletion greedy = client.chat().completions().create(chat(0).temperature(0.0).build());
        assertJsonReply(greedy.choices().getFirst().message().content().orElseThrow(),
                greedy.choices().getFirst().finishReason().asString());
    }

    /**
     * The tokens made of quotes and closing braces (with spaces) lifted by {@code logit_bias}: the objects close well within the budget,
     * each reply ends with {@code stop} as soon as its object does, and is a whole JSON object.
     */
    @Test
    void aReplyEndsWhenItsObjectCloses() {
        Map<String, JsonValue> bias = new java.util.HashMap<>();
        try (RecurrentGemma model = TestServers.austenModel()) {
            GemmaTokenizer t = model.tokenizer();
            for (int id = 0; id < t.vocabSize(); id++) {
                String text = new String(t.tokenBytes(id), StandardCharsets.UTF_8);
                if (t.pieceType(id) != PieceType.CONTROL && text.matches("[\"} ]*[\"}][\"} ]*")) {
                    bias.put(Integer.toString(id), JsonValue.from(6));
                }
            }
        }
        assertTrue(bias.size() >= 2, bias.toString());
        for (long seed = 1; seed <= 4; seed++) {
            ChatCompletion c = client.chat().completions().create(chat(seed).maxCompletionTokens(300)
                    .logitBias(ChatCompletionCreateParams.LogitBias.builder().putAllAdditionalProperties(bias).build()).build());
            var choice = c.choices().getFirst();
            String text = choice.message().content().orElseThrow();
            assertEquals("stop", choice.finishReason().asString(), text);
            assertJsonReply(text, "stop");
            assertTrue(text.strip().endsWith("}"), "nothing after the object: " + text);
        }
    }

    @Test
    void streamedRepliesEqualWholeOnesAndCompletionsTakeJsonModeToo() {
        ChatCompletionCreateParams p = chat(3).n(2).build();
        ChatCompletion whole = client.chat().completions().create(p);
        StringBuilder[] streamed = {new StringBuilder(), new StringBuilder()};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(
                    ch -> ch.delta().content().ifPresent(streamed[(int) ch.index()]::append)));
        }
        for (int i = 0; i < 2; i++) {
            var choice = whole.choices().get(i);
            assertEquals(choice.message().content().orElseThrow(), streamed[i].toString());
            assertJsonReply(streamed[i].toString(), choice.finishReason().asString());
        }
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL)
                .prompt("It is a truth").maxTokens(40).temperature(1.0).seed(9)
                .putAdditionalBodyProperty("response_format", JsonValue.from(Map.of("type", "json_object"))).build());
        assertJsonReply(c.choices().getFirst().text(), c.choices().getFirst().finishReason().asString());
    }

    @Test
    void aSchemaOrAnUnknownFormatIsRefused() {
        for (Object format : new Object[] {Map.of("type", "json_schema", "json_schema", Map.of("name", "x")), Map.of("type", "xml"), "json"}) {
            BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(
                    chat(1).build().toBuilder().putAdditionalBodyProperty("response_format", JsonValue.from(format)).build()));
            assertEquals("response_format", e.param().orElseThrow(), e.getMessage());
        }
    }
}
