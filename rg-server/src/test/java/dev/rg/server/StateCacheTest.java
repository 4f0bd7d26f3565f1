package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-turn chat resumes from the kept state of the previous turn and gives the same text as without the cache; with
 * {@code --state-cache-dir} it does so across a restart of the server.
 */
class StateCacheTest {
    private static final String[] TURNS = {"Who is Mr. Darcy?", "And Elizabeth?", "Where do they live?"};

    private record Turn(String text, CompletionUsage usage, String finish) {}

    private static List<Turn> converse(RgServer s) {
        return converse(s, TURNS.length);
    }

    /** The first {@code turns} turns of the conversation, the earlier replies as {@code previous} gave them. */
    private static List<Turn> converse(RgServer s, int turns) {
        List<Turn> out = new ArrayList<>();
        OpenAIClient c = OpenAIOkHttpClient.builder().baseUrl(TestServers.base(s) + "/v1").apiKey("unused").maxRetries(0).build();
        try {
            ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                    .maxCompletionTokens(12).temperature(0.0);
            for (String user : List.of(TURNS).subList(0, turns)) {
                p.addUserMessage(user);
                ChatCompletion r = c.chat().completions().create(p.build());
                String reply = r.choices().getFirst().message().content().orElseThrow();
                out.add(new Turn(reply, r.usage().orElseThrow(), r.choices().getFirst().finishReason().asString()));
                p.addAssistantMessage(reply);
            }
        } finally {
            c.close();
        }
        return out;
    }

    private static long cached(CompletionUsage u) {
        return u.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow();
    }

    @Test
    void eachTurnPrefillsOnlyItsNewTokensAndTheTextIsUnchanged() throws Exception {
        List<Turn> without;
        try (RgServer s = TestServers.start(TestServers.options().withStateCacheBytes(0))) {
            without = converse(s);
        }
        ChatTemplate template = new ChatTemplate(GemmaTokenizer.load(TestServers.austen()));
        try (RgServer s = TestServers.start(TestServers.options())) {
            List<Turn> with = converse(s);
            for (int i = 0; i < TURNS.length; i++) {
                assertEquals(without.get(i).text(), with.get(i).text(), "turn " + i + " text");
                assertEquals(without.get(i).usage().promptTokens(), with.get(i).usage().promptTokens(), "turn " + i + " prompt");
                assertEquals(0, cached(without.get(i).usage()));
            }
            assertEquals(0, cached(with.getFirst().usage()), "nothing is cached before the first turn");
            for (int i = 1; i < TURNS.length; i++) {
                CompletionUsage prev = with.get(i - 1).usage();
                CompletionUsage now = with.get(i).usage();
                // the kept state has seen the previous prompt and reply (all but the reply's last token, never fed)
                assertEquals(prev.promptTokens() + prev.completionTokens() - 1, cached(now), "turn " + i + " resumed");
                // what is left: the reply's last token (unless it was <end_of_turn>, which the next turn starts with) and the new turn
                int fresh = template.encodeNextUserTurn(TURNS[i], false).length + (with.get(i - 1).finish().equals("length") ? 1 : 0);
                assertEquals(fresh, now.promptTokens() - cached(now), "turn " + i + " prefilled only its new tokens");
            }
            String m = TestServers.metrics(s);
            assertEquals(2, TestServers.metric(m, "rg_state_cache_lookups_total{result=\"hit\"}"), m);
            assertTrue(TestServers.metric(m, "rg_state_cache_bytes") > 0);
        }
    }

    @Test
    void aRestartedServerResumesConversationsFromTheStateCacheDirectory(@TempDir Path dir) throws Exception {
        List<Turn> without;
        try (RgServer s = TestServers.start(TestServers.options().withStateCacheBytes(0))) {
            without = converse(s, 2);
        }
        Path notes = Files.writeString(dir.resolve("notes.txt"), "not ours");
        ServerOptions options = TestServers.options().withStateCacheDir(dir);
        RgServer first = TestServers.start(options);
        assertEquals("resumed 0 conversation states (0.0 MB) from " + dir, first.restoredStates().orElseThrow());
        Turn one = converse(first, 1).getFirst();
        // written while the server is idle, before any shutdown: a crash would not lose them
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
        while (ours(dir).size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(2, ours(dir).size(), "state files written while idle");
        first.close();
        assertTrue(first.keptStates().orElseThrow().startsWith("kept 2 conversation states ("), first.keptStates().orElseThrow());
        List<Path> saved = ours(dir);
        assertEquals(2, saved.size(), saved.toString());
        // a damaged file of this model is skipped at start and removed at the next shutdown
        String prefix = saved.getFirst().getFileName().toString().substring(0, "state-".length() + 13);
        Path damaged = Files.writeString(dir.resolve(prefix + "000000000000000000000000.rgstate"), "damaged");

        try (RgServer second = TestServers.start(options)) {
            String report = second.restoredStates().orElseThrow();
            assertTrue(report.startsWith("resumed 2 conversation states (0.6 MB) from " + dir + "; 1 skipped (" + damaged), report);
            List<Turn> two = converse(second, 2);
            assertEquals(one.text(), two.getFirst().text());
            assertEquals(without.get(1).text(), two.get(1).text(), "the second turn after a restart");
            assertEquals(one.usage().promptTokens() + one.usage().completionTokens() - 1, cached(two.get(1).usage()),
                    "resumed from the state kept before the restart");
        }
        assertTrue(!Files.exists(damaged), "the damaged file is removed");
        assertEquals("not ours", Files.readString(notes));
    }

    private static List<Path> ours(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("state-")).sorted().toList();
        }
    }

    private static final String SYSTEM = "You answer in the style of Jane Austen: politely, mentioning the weather, the"
            + " neighbours and the prospects of marriage.";
    private static final String[][] EXAMPLES = {{"Who is Emma?", "A handsome, clever and rich young lady."},
            {"Where does she live?", "At Hartfield, with her father."}};

    /** A greedy 8-token chat completion of {@code messages} (role, content pairs): its text and cached prompt tokens. */
    private static Turn ask(OpenAIClient c, String... messages) {
        ChatCompletionCreateParams.Builder p = ChatCompletionCreateParams.builder().model(TestServers.MODEL)
                .maxCompletionTokens(8).temperature(0.0);
        for (int i = 0; i < messages.length; i += 2) {
            switch (messages[i]) {
                case "system" -> p.addSystemMessage(messages[i + 1]);
                case "user" -> p.addUserMessage(messages[i + 1]);
                default -> p.addAssistantMessage(messages[i + 1]);
            }
        }
        ChatCompletion r = c.chat().completions().create(p.build());
        return new Turn(r.choices().getFirst().message().content().orElseThrow(), r.usage().orElseThrow(),
                r.choices().getFirst().finishReason().asString());
    }

    private static List<Turn> sharedPrefixRequests(RgServer s) {
        OpenAIClient c = OpenAIOkHttpClient.builder().baseUrl(TestServers.base(s) + "/v1").apiKey("unused").maxRetries(0).build();
        try {
            List<Turn> out = new ArrayList<>();
            for (String question : List.of("Tell me about Mr. Darcy.", "What is the weather like?")) {
                out.add(ask(c, "system", SYSTEM, "user", question));
            }
            for (String question : List.of("And her sister?", "Who is Mr. Knightley?")) {
                out.add(ask(c, "user", EXAMPLES[0][0], "assistant", EXAMPLES[0][1], "user", EXAMPLES[1][0], "assistant",
                        EXAMPLES[1][1], "user", question));
            }
            return out;
        } finally {
            c.close();
        }
    }

    @Test
    void requestsThatShareASystemMessageOrExampleTurnsPrefillThemOnce() throws Exception {
        List<Turn> without;
        try (RgServer s = TestServers.start(TestServers.options().withStateCacheBytes(0))) {
            without = sharedPrefixRequests(s);
        }
        GemmaTokenizer tok = GemmaTokenizer.load(TestServers.austen());
        int afterSystem = tok.encode("<start_of_turn>user\n" + SYSTEM + "\n\n").length + 1;
        int afterExamples = tok.encode(ChatTemplate.render(List.of(ChatTemplate.Message.user(EXAMPLES[0][0]),
                ChatTemplate.Message.model(EXAMPLES[0][1]), ChatTemplate.Message.user(EXAMPLES[1][0]),
                ChatTemplate.Message.model(EXAMPLES[1][1])), false)).length + 1;
        try (RgServer s = TestServers.start(TestServers.options())) {
            List<Turn> with = sharedPrefixRequests(s);
            for (int i = 0; i < with.size(); i++) {
                assertEquals(without.get(i).text(), with.get(i).text(), "request " + i);
            }
            assertEquals(List.of(0L, (long) afterSystem, 0L, (long) afterExamples),
                    with.stream().map(t -> cached(t.usage())).toList(), "cached prompt tokens");
            String m = TestServers.metrics(s);
            assertEquals(2, TestServers.metric(m, "rg_state_cache_prefixes_kept_total"), m);
        }
    }
}
