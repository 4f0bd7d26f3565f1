package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's Responses API on {@code rg serve}, driven by the official OpenAI Java SDK: a response is the chat completion
 * of its instructions and input, streamed or not; {@code previous_response_id} continues a stored conversation from the
 * state its last turn left; what the API does not support is refused with a 400 naming it.
 */
class ResponsesApiTest extends OneServerTest {

    private static String text(Response r) {
        StringBuilder sb = new StringBuilder();
        r.output().forEach(item -> item.message().ifPresent(m -> m.content().forEach(c -> c.outputText().ifPresent(t -> sb.append(t.text())))));
        return sb.toString();
    }

    private static ResponseCreateParams.Builder greedy(String input, int maxTokens) {
        return ResponseCreateParams.builder().model(TestServers.MODEL).input(input).maxOutputTokens(maxTokens).temperature(0.0);
    }

    private static ChatCompletion chat(ChatCompletionCreateParams.Builder p, int maxTokens) {
        return client.chat().completions().create(p.model(TestServers.MODEL).maxCompletionTokens(maxTokens).temperature(0.0).build());
    }

    @Test
    void aResponseIsTheChatCompletionOfItsInstructionsAndInput() {
        Response r = client.responses().create(greedy("Who is Mr. Darcy?", 12).instructions("Answer in the manner of the novel.").build());
        ChatCompletion c = chat(ChatCompletionCreateParams.builder().addSystemMessage("Answer in the manner of the novel.")
                .addUserMessage("Who is Mr. Darcy?"), 12);
        assertEquals(c.choices().get(0).message().content().orElseThrow(), text(r));
        assertEquals(c.usage().orElseThrow().promptTokens(), r.usage().orElseThrow().inputTokens());
        assertEquals(c.usage().orElseThrow().completionTokens(), r.usage().orElseThrow().outputTokens());
        String expectedStatus = c.choices().get(0).finishReason().asString().equals("stop") ? "completed" : "incomplete";
        assertEquals(expectedStatus, r.status().orElseThrow().asString());
        assertEquals(r.id(), client.responses().retrieve(r.id()).id(), "stored by default");
    }

    @Test
    void aStreamCarriesTheSameTextInOrderedEvents() {
        Response whole = client.responses().create(greedy("It is a truth universally acknowledged", 16).build());
        List<String> types = new ArrayList<>();
        StringBuilder deltas = new StringBuilder();
        List<Long> sequence = new ArrayList<>();
        Response last = null;
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(
                greedy("It is a truth universally acknowledged", 16).build())) {
            for (ResponseStreamEvent e : (Iterable<ResponseStreamEvent>) stream.stream()::iterator) {
                com.fasterxml.jackson.databind.JsonNode event = com.openai.core.ObjectMappers.jsonMapper().valueToTree(e);
                types.add(event.path("type").asText());
                sequence.add(event.path("sequence_number").asLong());
                e.outputTextDelta().ifPresent(d -> deltas.append(d.delta()));
                if (e.completed().isPresent()) {
                    last = e.completed().get().response();
                } else if (e.incomplete().isPresent()) {
                    last = e.incomplete().get().response();
                }
            }
        }
        assertEquals(text(whole), deltas.toString());
        assertEquals(text(whole), text(last));
        assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"),
                types.subList(0, 4));
        assertEquals(List.of("response.output_text.done", "response.content_part.done", "response.output_item.done"),
                types.subList(types.size() - 4, types.size() - 1));
        for (int i = 1; i < sequence.size(); i++) {
            assertEquals(sequence.get(i - 1) + 1, sequence.get(i), "sequence numbers count the events");
        }
    }

    @Test
    void previousResponseIdContinuesTheConversationFromItsState() {
        Response first = client.responses().create(greedy("Tell me of Elizabeth Bennet.", 10).build());
        Response second = client.responses().create(greedy("And of her sister Jane?", 10).previousResponseId(first.id()).build());
        ChatCompletion alone = chat(ChatCompletionCreateParams.builder().addUserMessage("Tell me of Elizabeth Bennet.")
                .addAssistantMessage(text(first)).addUserMessage("And of her sister Jane?"), 10);
        assertEquals(alone.choices().get(0).message().content().orElseThrow(), text(second), "the same as the whole conversation sent");
        assertTrue(second.usage().orElseThrow().inputTokensDetails().cachedTokens() > 0,
                "the second turn resumed from the state the first left: " + second.usage().get());
        assertEquals(first.id(), second.previousResponseId().orElseThrow());

        List<String> items = new ArrayList<>();
        client.responses().inputItems().list(second.id()).data().forEach(item -> items.add(
                com.openai.core.ObjectMappers.jsonMapper().valueToTree(item).at("/content/0/text").asText()));
        assertEquals(List.of("And of her sister Jane?"), items, "the items the second turn added");

        Response unstored = client.responses().create(greedy("Hello", 2).store(false).build());
        assertThrows(NotFoundException.class, () -> client.responses().retrieve(unstored.id()));
        client.responses().delete(first.id());
        assertThrows(NotFoundException.class, () -> client.responses().retrieve(first.id()));
        BadRequestException gone = assertThrows(BadRequestException.class,
                () -> client.responses().create(greedy("Go on", 2).previousResponseId(first.id()).build()));
        assertEquals("previous_response_not_found", gone.code().orElseThrow(), "OpenAI's code, on which clients resend the conversation");
    }

    @Test
    void whatTheServerCannotDoIsRefusedNamingTheParameter() {
        assertEquals("max_output_tokens", assertThrows(BadRequestException.class,
                () -> client.responses().create(greedy("Hi", 4).maxOutputTokens(-1).build())).param().orElseThrow());
        assertEquals("tools", assertThrows(BadRequestException.class, () -> client.responses().create(greedy("Hi", 4)
                .putAdditionalBodyProperty("tools", JsonValue.from(List.of(Map.of("type", "web_search")))).build())).param().orElseThrow());
        assertEquals("text.format", assertThrows(BadRequestException.class, () -> client.responses().create(greedy("Hi", 4)
                .putAdditionalBodyProperty("text", JsonValue.from(Map.of("format", Map.of("type", "json_schema", "name", "x"))))
                .build())).param().orElseThrow());
        assertEquals("input[0]", assertThrows(BadRequestException.class, () -> client.responses().create(greedy("Hi", 4)
                .putAdditionalBodyProperty("input", JsonValue.from(List.of(Map.of("type", "function_call_output", "call_id", "c",
                        "output", "x")))).build())).param().orElseThrow());
    }
}
