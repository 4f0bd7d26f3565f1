package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.ChatTemplate.Message;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link PromptMarks} puts its marks exactly after the folded system text and before the last user turn, as token
 * prefixes of the whole prompt, and drops a mark where tokens merge across it.
 */
class PromptMarksTest {
    private final GemmaTokenizer tok = GemmaTokenizer.load(TestServers.austen());
    private final ChatTemplate template = new ChatTemplate(tok);

    /** BOS and the ids of {@code text}: the tokens a mark must end a prefix of. */
    private int prefix(String text) {
        return tok.encode(text).length + 1;
    }

    private int[] marks(List<Message> turns, int systemLength) {
        int[] ids = template.encode(turns, true);
        int[] marks = PromptMarks.of(tok, turns, systemLength, ids);
        for (int m : marks) {
            int[] body = tok.encode(ChatTemplate.render(turns, true));
            assertArrayEquals(Arrays.copyOfRange(body, 0, m - 1), Arrays.copyOfRange(ids, 1, m), "a token prefix");
        }
        return marks;
    }

    @Test
    void marksFollowTheSystemTextAndPrecedeTheLastUserTurn() {
        String system = "  You answer in the style of Jane Austen.";
        List<Message> one = List.of(Message.user(system + "\n\n" + "Tell me about Emma."));
        String head = "<start_of_turn>user\n";
        int afterSystem = prefix(head + system.strip() + "\n\n");
        assertArrayEquals(new int[] {afterSystem}, marks(one, system.length() + 2));

        List<Message> three = List.of(Message.user(system + "\n\nWho is Emma?"), Message.model("A young lady."),
                Message.user("And Mr. Knightley?"));
        int beforeLast = prefix(ChatTemplate.render(three.subList(0, 2), false));
        assertArrayEquals(new int[] {afterSystem, beforeLast}, marks(three, system.length() + 2));
        assertArrayEquals(new int[] {beforeLast}, marks(three, 0), "no system text: only the turn boundary");
        assertArrayEquals(new int[0], marks(List.of(Message.user("Hello")), 0));
    }

    @Test
    void aMarkWhereTokensMergeAcrossItIsDropped() {
        // the user text continues the separator's newlines: "\n\n" + "\n..." do not tokenize as "\n\n" and the rest
        String system = "Be brief.";
        List<Message> merged = List.of(Message.user(system + "\n\n" + "\n\n\nHello"));
        int[] ids = template.encode(merged, true);
        int separate = prefix("<start_of_turn>user\n" + system + "\n\n");
        boolean tokensMerge = !Arrays.equals(tok.encode("<start_of_turn>user\n" + system + "\n\n"), 0, separate - 1, ids, 1, separate);
        assertEquals(tokensMerge ? 0 : 1, marks(merged, system.length() + 2).length);
        assertEquals(true, tokensMerge, "the embedded tokenizer has pieces of several newlines");
    }
}
