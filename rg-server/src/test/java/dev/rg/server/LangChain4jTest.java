package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiLanguageModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.Response;
import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** rg serve through LangChain4j's OpenAI module: chat (blocking and streaming) and text completion. */
class LangChain4jTest {
    private static final String QUESTION = "What does Elizabeth think of Mr. Darcy?";
    private static RgServer server;

    @BeforeAll
    static void start() {
        server = TestServers.start(TestServers.options());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String v1() {
        return TestServers.base(server) + "/v1";
    }

    @Test
    void chatBlockingAndStreamingAgreeAndReportUsage() throws Exception {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(v1()).apiKey("unused").modelName(TestServers.MODEL)
                .temperature(0.0).maxTokens(20).maxRetries(0).build();
        ChatResponse r = chat.chat(dev.langchain4j.data.message.UserMessage.from(QUESTION));
        String text = r.aiMessage().text();
        int prompt = new ChatTemplate(GemmaTokenizer.load(TestServers.austen()))
                .encode(List.of(ChatTemplate.Message.user(QUESTION)), true).length;
        assertEquals(prompt, r.tokenUsage().inputTokenCount());
        assertTrue(r.tokenUsage().outputTokenCount() >= 1 && r.tokenUsage().outputTokenCount() <= 20);
        assertEquals(r.tokenUsage().outputTokenCount() == 20 ? FinishReason.LENGTH : FinishReason.STOP, r.finishReason());

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(v1()).apiKey("unused")
                .modelName(TestServers.MODEL).temperature(0.0).maxTokens(20).build();
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(QUESTION, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                parts.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse last = done.get(2, TimeUnit.MINUTES);
        assertEquals(text, parts.toString(), "streamed = blocking (greedy)");
        assertEquals(text, last.aiMessage().text());
        assertEquals(r.finishReason(), last.finishReason());
    }

    @Test
    void stopStringsAndSeedsThroughTheChatModel() {
        OpenAiChatModel greedy = OpenAiChatModel.builder().baseUrl(v1()).apiKey("unused").modelName(TestServers.MODEL)
                .temperature(0.0).maxTokens(20).build();
        String full = greedy.chat(QUESTION);
        assertTrue(full.length() > 6, full);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        OpenAiChatModel stopped = OpenAiChatModel.builder().baseUrl(v1()).apiKey("unused").modelName(TestServers.MODEL)
                .temperature(0.0).maxTokens(20).stop(List.of(stop)).build();
        assertEquals(full.substring(0, full.indexOf(stop)), stopped.chat(QUESTION));

        OpenAiChatModel sampled = OpenAiChatModel.builder().baseUrl(v1()).apiKey("unused").modelName(TestServers.MODEL)
                .temperature(1.0).seed(11).maxTokens(16).build();
        assertEquals(sampled.chat(QUESTION), sampled.chat(QUESTION), "same seed, same text");
    }

    @Test
    void textCompletionThroughTheLanguageModel() {
        OpenAiLanguageModel lm = OpenAiLanguageModel.builder().baseUrl(v1()).apiKey("unused").modelName(TestServers.MODEL)
                .temperature(0.0).build();
        Response<String> r = lm.generate("It is a truth universally acknowledged");
        assertFalse(r.content().isEmpty());
        assertTrue(r.tokenUsage().inputTokenCount() > 5);
        assertTrue(r.tokenUsage().outputTokenCount() >= 1);
    }
}
