package dev.rg.spark;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.io.StrictUtf8;

/**
 * Turns a row's prompt value into token ids, or into the reason it cannot be generated for: null, empty,
 * bytes that are not UTF-8, or more tokens than allowed. Those are the row's problem, so they become its error column instead of failing the job.
 */
final class PromptCheck {
    /** Token ids (BOS first), or an error outcome. */
    record Checked(int[] ids, Outcome error) {}

    private PromptCheck() {}

    /**
     * @param value     the prompt: a String or UTF-8 bytes
     * @param validUtf8 for a String, whether Spark's bytes for it were valid UTF-8 (Spark hands rows over as
     *                  Java strings with bad bytes already replaced, so it is checked in SQL beforehand)
     */
    static Checked check(RecurrentGemma rg, Object value, boolean validUtf8, int maxPromptTokens) {
        return check(rg, value, validUtf8, maxPromptTokens, 0);
    }

    /**
     * With a prompt prefix of {@code prefixTokens} tokens (BOS included; 0 = none): the ids are the row's own tokens
     * (no BOS: the prefix has it), and the limit counts the prefix too.
     */
    static Checked check(RecurrentGemma rg, Object value, boolean validUtf8, int maxPromptTokens, int prefixTokens) {
        String text;
        switch (value) {
            case null -> {
                return fail(null, "prompt is null");
            }
            case String s -> {
                if (!validUtf8) {
                    return fail(null, "prompt is not valid UTF-8");
                }
                text = s;
            }
            case byte[] bytes -> {
                StrictUtf8.Decoded decoded = StrictUtf8.decode(bytes, bytes.length);
                if (decoded.text() == null) {
                    return fail(null, "prompt is not valid UTF-8 (at byte " + decoded.badOffset() + " of " + bytes.length + ")");
                }
                text = decoded.text();
            }
            default -> {
                return fail(null, "prompt has type " + value.getClass().getSimpleName() + ", expected a string or UTF-8 bytes");
            }
        }
        if (text.isEmpty()) {
            return fail(null, "prompt is empty");
        }
        int[] body = rg.tokenize(text);
        if (prefixTokens > 0) {
            long total = (long) prefixTokens + body.length;
            if (total > maxPromptTokens) {
                return fail((int) Math.min(Integer.MAX_VALUE, total), "prompt has " + total + " tokens (the prompt prefix's "
                        + prefixTokens + " included), more than max_prompt_tokens " + maxPromptTokens);
            }
            return new Checked(body, null);
        }
        int n = body.length + 1;
        if (n > maxPromptTokens) {
            return fail(n, "prompt has " + n + " tokens (BOS included), more than max_prompt_tokens " + maxPromptTokens);
        }
        return new Checked(rg.withBos(body), null);
    }

    private static Checked fail(Integer promptTokens, String message) {
        return new Checked(null, Outcome.error(promptTokens, message));
    }
}
