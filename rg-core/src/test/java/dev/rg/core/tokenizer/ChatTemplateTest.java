package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every {@code chat_cases} entry of both fixtures, plus the template's error cases and turn continuation. */
class ChatTemplateTest {
    private static final String BOS_TEXT = "<bos>";

    @TestFactory
    Stream<DynamicNode> chatCases() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> {
            GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(name));
            ChatTemplate chat = new ChatTemplate(tok);
            List<DynamicTest> tests = new ArrayList<>();
            int i = 0;
            for (JsonNode c : Fixtures.golden(name).path("chat_cases")) {
                int index = i++;
                String template = c.path("template").asText();
                tests.add(DynamicTest.dynamicTest("chat " + index + " (" + template + ")", () -> checkChatCase(chat, c)));
            }
            assertEquals(11, tests.size(), name + ": chat case count");
            return DynamicContainer.dynamicContainer(name + " chat_cases (" + tests.size() + ")", tests);
        });
    }

    static void checkChatCase(ChatTemplate chat, JsonNode c) {
        int[] expected = Fixtures.ints(c.path("ids"));
        String prompt = c.path("prompt").asText();
        switch (c.path("template").asText()) {
            case "hf_chat_template" -> {
                List<ChatTemplate.Message> messages = new ArrayList<>();
                for (JsonNode m : c.path("messages")) {
                    messages.add(ChatTemplate.Message.of(m.path("role").asText(), m.path("content").asText()));
                }
                boolean addGenerationPrompt = c.path("add_generation_prompt").asBoolean();
                assertTrue(prompt.startsWith(BOS_TEXT));
                assertEquals(prompt.substring(BOS_TEXT.length()), ChatTemplate.render(messages, addGenerationPrompt));
                assertArrayEquals(expected, chat.encode(messages, addGenerationPrompt));
            }
            case "recurrentgemma_apply_it_formatter" ->
                    assertArrayEquals(expected, chat.encodeSingleTurn(c.path("input").asText()));
            default -> throw new AssertionError("unknown template " + c.path("template"));
        }
    }

    @Test
    void systemRoleIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.Message.of("system", "be brief"));
        assertTrue(e.getMessage().contains("System role not supported"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.Message.of("tool", "x"));
    }

    @Test
    void rolesMustAlternateStartingWithUser() {
        var modelFirst = List.of(ChatTemplate.Message.model("hi"));
        var twoUsers = List.of(ChatTemplate.Message.user("a"), ChatTemplate.Message.user("b"));
        for (var messages : List.of(modelFirst, twoUsers)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ChatTemplate.render(messages, true));
            assertTrue(e.getMessage().contains("alternate"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ChatTemplate.render(List.of(), true));
    }

    @Test
    void assistantIsAnAliasOfModel() {
        assertEquals(ChatTemplate.Role.MODEL, ChatTemplate.Message.of("assistant", "x").role());
        assertEquals(ChatTemplate.Role.MODEL, ChatTemplate.Message.of("model", "x").role());
    }

    @Test
    void trimFollowsPythonStrip() {
        // Python's str.isspace set, including what Java's strip() keeps (U+0085, U+00A0, U+2007, U+202F) and
        // U+001C..U+001F; U+200B and U+FEFF are not whitespace for Python.
        String ws = "\t\n\u000B\f\r\u001C\u001D\u001E\u001F \u0085\u00A0\u1680\u2000\u2007\u200A\u2028\u2029\u202F\u205F\u3000";
        assertEquals("x y", PythonWhitespace.strip(ws + "x y" + ws));
        assertEquals("\u200Bx\uFEFF", PythonWhitespace.strip(" \u200Bx\uFEFF "));
        assertEquals("", PythonWhitespace.strip(ws));
    }

    @TestFactory
    Stream<DynamicNode> markerIds() {
        return Stream.of(DynamicTest.dynamicTest("gemma-layout-4k has Gemma's 106/107", () -> {
            ChatTemplate chat = new ChatTemplate(GemmaTokenizer.load(Fixtures.tokenizerDir("gemma-layout-4k")));
            assertEquals(106, chat.startOfTurnId());
            assertEquals(107, chat.endOfTurnId());
        }));
    }

    /**
     * Continuing a conversation with kept state must give exactly the ids of the full conversation: first
     * prompt + reply ids + next-turn ids (with 107 when the loop did not feed it, without when it did).
     */
    @TestFactory
    Stream<DynamicNode> nextUserTurnContinuesTheFullConversation() {
        return Fixtures.TOKENIZER_FIXTURES.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            GemmaTokenizer tok = GemmaTokenizer.load(Fixtures.tokenizerDir(name));
            ChatTemplate chat = new ChatTemplate(tok);
            String[][] turns = {
                {"Hi", "Hello! How can I help?", "Tell me a joke."},
                {"  padded question \n", "an answer\nwith lines", "\u00a0and more\u3000"},
                {"What is 2+2?", "4", "<start_of_turn>tricky</end>"},
                {"多语言 🚀", "😀 ok", "x"},
            };
            for (String[] t : turns) {
                int[] first = chat.encode(List.of(ChatTemplate.Message.user(t[0])), true);
                int[] reply = tok.encode(PythonWhitespace.strip(t[1]));
                int[] full = chat.encode(List.of(ChatTemplate.Message.user(t[0]), ChatTemplate.Message.model(t[1]),
                        ChatTemplate.Message.user(t[2])), true);
                int[] notFed = chat.encodeNextUserTurn(t[2], false);
                assertEquals(chat.endOfTurnId(), notFed[0]);
                assertArrayEquals(full, concat(first, reply, notFed), Arrays.toString(t));
                // The loop fed the sampled <end_of_turn>: it is part of what the state has seen.
                int[] replyWithEnd = concat(reply, new int[] {chat.endOfTurnId()});
                assertArrayEquals(full, concat(first, replyWithEnd, chat.encodeNextUserTurn(t[2], true)));
            }
        }));
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(IntStream::of).toArray();
    }
}
