package dev.rg.spark;

import dev.rg.core.RecurrentGemma;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

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
                String decoded = strictUtf8(bytes);
                if (decoded == null) {
                    return fail(null, "prompt is not valid UTF-8 (at byte " + firstBadByte(bytes) + " of " + bytes.length + ")");
                }
                text = decoded;
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
        return new Checked(withBos(rg, body), null);
    }

    /** BOS, then {@code body}: how a prompt (or a prompt prefix) starts. */
    static int[] withBos(RecurrentGemma rg, int[] body) {
        int[] ids = new int[body.length + 1];
        ids[0] = rg.model().config().bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    private static Checked fail(Integer promptTokens, String message) {
        return new Checked(null, Outcome.error(promptTokens, message));
    }

    private static String strictUtf8(byte[] bytes) {
        try {
            return newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    private static int firstBadByte(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = newDecoder().decode(in, out, true);
        return r.isError() ? in.position() : bytes.length;
    }

    private static CharsetDecoder newDecoder() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }
}
