package dev.rg.cli;

import dev.rg.core.tokenizer.GemmaTokenizer;

/** Prompt text checks and chat wrapping shared by the commands. */
final class Prompts {
    private Prompts() {}

    /**
     * Rejects an empty prompt and replaces lone UTF-16 surrogates (which have no UTF-8 form; they can come
     * from a broken terminal or file) by U+FFFD, as SentencePiece does with invalid bytes.
     */
    static String clean(String text, String option) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException(option + " is empty: give some text");
        }
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean lone = Character.isHighSurrogate(c) ? i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1))
                    : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(text.charAt(i - 1)));
            if (lone) {
                if (sb == null) {
                    sb = new StringBuilder(text);
                }
                sb.setCharAt(i, '\uFFFD');
            }
        }
        return sb == null ? text : sb.toString();
    }

    /** Like {@link #clean} but an empty text is fine (it encodes to no ids). */
    static String cleanAllowEmpty(String text) {
        return text.isEmpty() ? text : clean(text, "text");
    }

    /** {@code <bos><start_of_turn>user\n{text}<end_of_turn>\n<start_of_turn>model\n} as ids. */
    static int[] chatIds(GemmaTokenizer tok, String text) {
        return new dev.rg.core.tokenizer.ChatTemplate(tok).encode(
                java.util.List.of(dev.rg.core.tokenizer.ChatTemplate.Message.user(text)), true);
    }
}
