package dev.rg.core.generate;

import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;

/** Prompts for the generation tests. */
final class TestPrompts {
    private TestPrompts() {}

    /** BOS, then {@code text}'s ids. */
    static int[] withBos(Model m, GemmaTokenizer tok, String text) {
        int[] body = tok.encode(text);
        int[] ids = new int[body.length + 1];
        ids[0] = m.config().bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }
}
