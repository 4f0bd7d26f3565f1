package dev.rg.spark;

import dev.rg.core.generate.GenerationResult;
import java.util.Locale;

/**
 * What one row gets: a completion, or an error saying why this row has none. Numbers are boxed because an
 * error row has no completion counts (and no prompt count when the prompt could not be read).
 *
 * @param completion       generated text (null on error)
 * @param promptTokens     prompt tokens, BOS included (null when the prompt could not be tokenized)
 * @param completionTokens generated tokens, a stop token included (null on error)
 * @param finishReason     {@code stop_token}, {@code stop_string} or {@code max_tokens} (null on error)
 * @param error            one line naming the problem with this row (null when generated)
 */
record Outcome(String completion, Integer promptTokens, Integer completionTokens, String finishReason, String error) {

    static Outcome of(GenerationResult r) {
        return new Outcome(r.text(), r.promptTokens(), r.tokens().length, r.reason().name().toLowerCase(Locale.ROOT), null);
    }

    static Outcome error(Integer promptTokens, String message) {
        return new Outcome(null, promptTokens, null, null, message);
    }

    Object[] values() {
        return new Object[] {completion, promptTokens, completionTokens, finishReason, error};
    }
}
