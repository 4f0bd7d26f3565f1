package dev.rg.server;

import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where a chat prompt's state is worth keeping in the state cache besides its end: prefixes that other requests are
 * likely to share. Applications send the same instructions (a {@code system} message, folded into the first user
 * turn) or the same example turns with every request, and differ after them; the cache keys whole prompts and
 * completions, so without a mark there no later request could resume from the shared part.
 *
 * <p>Two marks: after the system text and its {@code "\n\n"} in the first user turn, and before the last user turn
 * (after every earlier turn). A mark is kept only where the tokens of the rendered text up to it are exactly the first
 * tokens of the whole prompt (no token merges across it), so a state kept there is the state of a true token prefix.
 */
final class PromptMarks {
    private PromptMarks() {}

    /**
     * @param turns        the conversation as rendered into {@code ids}
     * @param systemLength characters of folded system text at the start of the first user turn's content, with its
     *                     {@code "\n\n"} separator; 0 if none
     * @param ids          the prompt: BOS and the rendered conversation with the generation prompt
     * @return token positions in (0, ids.length), ascending
     */
    static int[] of(GemmaTokenizer tokenizer, List<ChatTemplate.Message> turns, int systemLength, int[] ids) {
        String rendered = ChatTemplate.render(turns, true);
        List<Integer> cuts = new ArrayList<>();
        if (systemLength > 0) {
            // the first turn renders as <start_of_turn>user\n + strip(content) + <end_of_turn>\n
            String head = ChatTemplate.START_OF_TURN + ChatTemplate.Role.USER.templateName() + "\n";
            String first = ChatTemplate.render(List.of(turns.getFirst()), false);
            String stripped = first.substring(head.length(), first.length() - ChatTemplate.END_OF_TURN.length() - 1);
            int lead = turns.getFirst().content().indexOf(stripped); // characters the strip removed at the start
            int cut = head.length() + systemLength - lead;
            if (!stripped.isEmpty() && lead >= 0 && cut > head.length() && cut < head.length() + stripped.length()) {
                cuts.add(cut);
            }
        }
        if (turns.size() >= 3) {
            cuts.add(ChatTemplate.render(turns.subList(0, turns.size() - 1), false).length());
        }
        List<Integer> marks = new ArrayList<>();
        for (int cut : cuts) {
            int[] body = tokenizer.encode(rendered.substring(0, cut));
            int n = body.length + 1;
            if (n < ids.length && Arrays.equals(body, 0, body.length, ids, 1, n)) {
                marks.add(n);
            }
        }
        return marks.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    }
}
