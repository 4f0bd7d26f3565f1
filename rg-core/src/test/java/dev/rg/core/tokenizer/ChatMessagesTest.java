package dev.rg.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Chat-API messages folded into Gemma's alternating user/model turns. */
class ChatMessagesTest {
    private static ChatMessages.Folded fold(String... roleContent) {
        ChatMessages m = new ChatMessages("messages");
        for (int i = 0; i < roleContent.length; i += 2) {
            m.add(roleContent[i], roleContent[i + 1], "messages[" + i / 2 + "]");
        }
        return m.fold();
    }

    @Test
    void systemTextOpensTheNextUserTurnAndSameRoleTurnsMerge() {
        ChatMessages.Folded f = fold("system", "Be brief.", "developer", "No lists.", "user", "Hi", "user", "Who is Emma?",
                "assistant", "A heroine.", "model", "Of Austen.", "user", "More?");
        assertEquals(List.of(ChatTemplate.Message.user("Be brief.\n\nNo lists.\n\nHi\n\nWho is Emma?"),
                ChatTemplate.Message.model("A heroine.\n\nOf Austen."), ChatTemplate.Message.user("More?")), f.turns());
        assertEquals("Be brief.\n\nNo lists.".length() + 2, f.systemLength(), "the system text and its separator");
        assertEquals(List.of(ChatTemplate.Message.user("Hi")), fold("user", "Hi").turns());
        assertEquals(0, fold("user", "Hi").systemLength());
        assertEquals(List.of(ChatTemplate.Message.user("Hi\n\nBe brief.")), fold("user", "Hi", "system", "Be brief.").turns(),
                "system text at the end is a user turn of its own, merged");
    }

    @Test
    void badConversationsNameTheMessageOrTheList() {
        ChatMessages.InvalidMessage role = assertThrows(ChatMessages.InvalidMessage.class, () -> fold("user", "a", "tool", "b"));
        assertEquals("messages[1].role", role.param());
        assertEquals("messages[1].role must be system, developer, user or assistant, got 'tool'", role.getMessage());
        ChatMessages.InvalidMessage first = assertThrows(ChatMessages.InvalidMessage.class, () -> fold("assistant", "a", "user", "b"));
        assertEquals("messages", first.param());
        assertEquals("the conversation must start with a user (or system) message", first.getMessage());
        ChatMessages.InvalidMessage last = assertThrows(ChatMessages.InvalidMessage.class, () -> fold("user", "a", "assistant", "b"));
        assertEquals("the last message must be from the user (the model answers it)", last.getMessage());
        assertEquals("'messages' must be a non-empty array of {role, content}",
                assertThrows(ChatMessages.InvalidMessage.class, ChatMessagesTest::fold).getMessage());
    }
}
