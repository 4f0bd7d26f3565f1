package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A completions {@code prompt} that is an array of prompts (OpenAI's batch form, which clients such as evaluation
 * harnesses send): each prompt runs as a request of its own, prompt {@code p}'s choice {@code i} comes back with index
 * {@code p * n + i} and is exactly that prompt sent alone (dense weights decode a batch row bit for bit as alone), and
 * the usage adds up every prompt once and every choice's tokens.
 */
class MultiPromptTest extends OneServerTest {
    private static CompletionCreateParams.Builder base() {
        return CompletionCreateParams.builder().model(TestServers.MODEL).prompt("x").maxTokens(6).temperature(0.0);
    }

    private static Completion alone(CompletionCreateParams.Builder params) {
        return client.completions().create(params.build());
    }

    @Test
    void morePromptsThanSequencesEachGiveTheTextTheyGiveAloneInOrder() {
        // 20 prompts against --max-sequences 16: the last four wait in the queue for slots, in order
        Random rnd = new Random(20261207);
        List<String> prompts = new ArrayList<>();
        for (int p = 0; p < 20; p++) {
            prompts.add(TestServers.randomWords(rnd, 1 + rnd.nextInt(8)));
        }
        Completion all = client.completions().create(base().promptOfArrayOfStrings(prompts).build());
        assertEquals(20, all.choices().size());
        long promptTokens = 0;
        long completionTokens = 0;
        for (int p = 0; p < 20; p++) {
            CompletionChoice choice = all.choices().get(p);
            Completion one = alone(base().prompt(prompts.get(p)));
            assertEquals(p, choice.index());
            assertEquals(one.choices().getFirst().text(), choice.text(), "prompt " + p + ": " + prompts.get(p));
            assertEquals(one.choices().getFirst().finishReason(), choice.finishReason());
            promptTokens += one.usage().orElseThrow().promptTokens();
            completionTokens += one.usage().orElseThrow().completionTokens();
        }
        assertEquals(promptTokens, all.usage().orElseThrow().promptTokens(), "every prompt once");
        assertEquals(completionTokens, all.usage().orElseThrow().completionTokens());
    }

    @Test
    void tokenArraysWithSeveralChoicesAreNumberedPromptMajorAndStreamTheSameText() {
        List<List<Long>> prompts = List.of(List.of(2L, 651L, 603L), List.of(2L, 3736L), List.of(2L, 1020L, 118L, 573L));
        CompletionCreateParams.Builder sampled = base().temperature(1.0).seed(42).maxTokens(5);
        Completion whole = client.completions().create(sampled.promptOfArrayOfTokenArrays(prompts).n(2).build());
        assertEquals(6, whole.choices().size());
        long promptTokens = 0;
        for (int p = 0; p < prompts.size(); p++) {
            Completion both = client.completions().create(sampled.promptOfArrayOfTokens(prompts.get(p)).n(2).build());
            promptTokens += both.usage().orElseThrow().promptTokens();
            for (int i = 0; i < 2; i++) {
                assertEquals(p * 2 + i, whole.choices().get(p * 2 + i).index());
                assertEquals(both.choices().get(i).text(), whole.choices().get(p * 2 + i).text(), "prompt " + p + " choice " + i);
            }
        }
        assertEquals(promptTokens, whole.usage().orElseThrow().promptTokens());

        StringBuilder[] streamed = new StringBuilder[6];
        List<Long> finished = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            streamed[i] = new StringBuilder();
        }
        try (StreamResponse<Completion> s = client.completions().createStreaming(
                sampled.promptOfArrayOfTokenArrays(prompts).n(2).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(c -> {
                streamed[(int) c.index()].append(c.text());
                if (c._finishReason().isMissing() || c._finishReason().isNull()) {
                    return;
                }
                finished.add(c.index());
            }));
        }
        for (int i = 0; i < 6; i++) {
            assertEquals(whole.choices().get(i).text(), streamed[i].toString(), "streamed choice " + i);
        }
        Collections.sort(finished);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), finished, "one finish per choice");
    }

    @Test
    void badPromptArraysAreRefusedNamingTheOne() {
        record Bad(JsonValue prompt, String says) {}
        List<String> tooMany = Collections.nCopies(81, "a"); // default --max-sequences 16 + --max-queue 64
        for (Bad bad : List.of(
                new Bad(JsonValue.from(List.of()), "'prompt' must not be an empty array"),
                new Bad(JsonValue.from(List.of("Emma", 5)), "prompt[1] must be a string or an array of token ids"),
                new Bad(JsonValue.from(List.of("Emma", "")), "'prompt[1]' must not be empty"),
                new Bad(JsonValue.from(List.of(List.of(2, 651), List.of())), "'prompt[1]' must not be an empty array"),
                new Bad(JsonValue.from(List.of(List.of(2, -3))), "prompt[0][1] must be a token id"),
                new Bad(JsonValue.from(tooMany), "'prompt' holds 81 prompts; this server takes at most 80"))) {
            BadRequestException e = assertThrows(BadRequestException.class,
                    () -> client.completions().create(base().prompt(bad.prompt()).build()), bad.says());
            assertEquals("prompt", e.param().orElseThrow());
            assertTrue(e.getMessage().contains(bad.says()), e.getMessage());
        }
        assertEquals(6, alone(base().prompt("Emma")).usage().orElseThrow().completionTokens(), "and the server goes on");
    }
}
