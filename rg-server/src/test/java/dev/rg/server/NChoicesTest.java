package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code n} > 1 through the OpenAI Java SDK: the prompt is prefilled once and its choices fork from copies of its
 * state, so choice {@code i} must be exactly the same request with {@code n} = 1 and seed {@code seed + i} (dense
 * formats decode a row of a batch bit for bit as alone), streamed or not, with the usage of all choices and the
 * prompt counted once.
 */
class NChoicesTest extends OneServerTest {
    private static CompletionCreateParams.Builder sampled(long seed) {
        return CompletionCreateParams.builder().model(TestServers.MODEL).prompt("It is a truth").maxTokens(12)
                .temperature(1.0).seed(seed);
    }

    @Test
    void eachChoiceIsTheRequestAloneWithItsOwnSeedAndThePromptIsPrefilledOnce() throws Exception {
        String before = TestServers.metrics(server);
        Completion three = client.completions().create(sampled(11).n(3).build());
        String after = TestServers.metrics(server);
        assertEquals(3, three.choices().size());
        long completionTokens = 0;
        Set<String> distinct = new HashSet<>();
        long promptTokens = -1;
        for (int i = 0; i < 3; i++) {
            Completion alone = client.completions().create(sampled(11 + i).build());
            var choice = three.choices().get(i);
            assertEquals(i, choice.index());
            assertEquals(alone.choices().getFirst().text(), choice.text(), "choice " + i + " = seed " + (11 + i) + " alone");
            assertEquals(alone.choices().getFirst().finishReason(), choice.finishReason());
            completionTokens += alone.usage().orElseThrow().completionTokens();
            promptTokens = alone.usage().orElseThrow().promptTokens();
            distinct.add(choice.text());
        }
        assertTrue(distinct.size() > 1, "different seeds sample different texts: " + distinct);
        var usage = three.usage().orElseThrow();
        assertEquals(promptTokens, usage.promptTokens(), "the prompt once");
        assertEquals(completionTokens, usage.completionTokens(), "every choice's tokens");
        assertEquals(promptTokens, delta(before, after, "rg_prompt_tokens_total"), "admitted once");
        assertEquals(2, delta(before, after, "rg_sequences_forked_total"), "choices 1 and 2 forked from choice 0");
    }

    @Test
    void streamedChoicesCarryTheirIndexAndMatchTheWholeReply() {
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                .addUserMessage("Who is Mr. Darcy?").maxCompletionTokens(10).temperature(1.0).seed(5).n(2).build();
        ChatCompletion whole = client.chat().completions().create(p);
        assertEquals(2, whole.choices().size());
        StringBuilder[] streamed = {new StringBuilder(), new StringBuilder()};
        List<List<String>> reasons = List.of(new ArrayList<>(), new ArrayList<>());
        long[] usage = {-1, -1};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunk -> {
                for (var choice : chunk.choices()) {
                    int i = (int) choice.index();
                    choice.delta().content().ifPresent(streamed[i]::append);
                    choice.finishReason().ifPresent(r -> reasons.get(i).add(r.asString()));
                }
                chunk.usage().ifPresent(u -> {
                    usage[0] = u.promptTokens();
                    usage[1] = u.completionTokens();
                });
            });
        }
        for (int i = 0; i < 2; i++) {
            var choice = whole.choices().get(i);
            assertEquals(choice.message().content().orElseThrow(), streamed[i].toString(), "choice " + i);
            assertEquals(List.of(choice.finishReason().asString()), reasons.get(i), "one finish per choice");
        }
        assertNotEquals(streamed[0].toString(), streamed[1].toString());
        assertEquals(whole.usage().orElseThrow().promptTokens(), usage[0]);
        assertEquals(whole.usage().orElseThrow().completionTokens(), usage[1]);
    }

    @Test
    void aClientThatLeavesCancelsEveryChoice() throws Exception {
        double cancelled = TestServers.metric(TestServers.metrics(server), "rg_sequences_cancelled_total");
        try (StreamResponse<Completion> s = client.completions().createStreaming(sampled(3).n(3).maxTokens(1_000_000)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build())) {
            Iterator<Completion> it = s.stream().iterator();
            Set<Long> seen = new HashSet<>();
            while (seen.size() < 3) {
                it.next().choices().forEach(c -> seen.add(c.index()));
            }
        }
        TestServers.waitFor(server, "rg_sequences_cancelled_total", cancelled + 3);
        TestServers.waitFor(server, "rg_active_sequences", 0);
        assertEquals(4, client.completions().create(sampled(3).maxTokens(4).build()).usage().orElseThrow().completionTokens());
    }

    @Test
    void choiceCountsOutsideTheLimitsAreRefused() {
        for (CompletionCreateParams bad : List.of(sampled(1).n(0).build(), sampled(1).n(17).build(),
                sampled(1).n(2).echo(true).build())) {
            BadRequestException e = assertThrows(BadRequestException.class, () -> client.completions().create(bad));
            assertEquals("n", e.param().orElseThrow(), e.getMessage());
        }
    }

    private static double delta(String before, String after, String name) {
        return TestServers.metric(after, name) - TestServers.metric(before, name);
    }
}
