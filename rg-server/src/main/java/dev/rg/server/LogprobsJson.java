package dev.rg.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.generate.TokenLogprobs;
import dev.rg.core.tokenizer.GemmaTokenizer;
import dev.rg.core.tokenizer.PieceType;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The {@code logprobs} object of a choice, in OpenAI's two shapes. Chat: {@code {"content": [{"token", "logprob",
 * "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}], "refusal": null}}. Completions (legacy):
 * {@code {"tokens", "token_logprobs", "top_logprobs": [{token: logprob}], "text_offset"}}, where an echoed prompt's
 * first token has {@code null} for both (nothing predicted it). A token's string is its
 * text ({@link GemmaTokenizer#tokenBytes}); a byte-fallback token, part of a character, shows as U+FFFD there and
 * exactly in {@code bytes}.
 */
final class LogprobsJson {
    private final ObjectMapper json;
    private final GemmaTokenizer tokenizer;
    /** Completions' {@code text_offset} of the next token: a stream's chunks continue where the earlier ones ended. */
    private int textOffset;

    /** One per reply: completions' text offsets run on from call to call. */
    LogprobsJson(ObjectMapper json, GemmaTokenizer tokenizer) {
        this.json = json;
        this.tokenizer = tokenizer;
    }

    /** Chat's {@code logprobs} for {@code entries}. */
    ObjectNode chat(List<TokenLogprobs> entries) {
        ObjectNode root = json.createObjectNode();
        ArrayNode content = root.putArray("content");
        for (TokenLogprobs e : entries) {
            ObjectNode item = token(content.addObject(), e.token(), e.logprob());
            ArrayNode top = item.putArray("top_logprobs");
            for (int i = 0; i < e.topIds().length; i++) {
                token(top.addObject(), e.topIds()[i], e.topLogprobs()[i]);
            }
        }
        root.putNull("refusal");
        return root;
    }

    /** Completions' {@code logprobs} for {@code entries}, the reply's tokens after those of the earlier calls. */
    ObjectNode completion(List<TokenLogprobs> entries) {
        ObjectNode root = json.createObjectNode();
        ArrayNode tokens = root.putArray("tokens");
        ArrayNode logprobs = root.putArray("token_logprobs");
        ArrayNode tops = root.putArray("top_logprobs");
        ArrayNode offsets = root.putArray("text_offset");
        for (TokenLogprobs e : entries) {
            tokens.add(text(e.token()));
            if (e.scored()) {
                logprobs.add(e.logprob());
                ObjectNode top = tops.addObject();
                for (int i = 0; i < e.topIds().length; i++) {
                    top.put(text(e.topIds()[i]), e.topLogprobs()[i]);
                }
            } else { // an echoed prompt's first token: nothing predicted it
                logprobs.addNull();
                tops.addNull();
            }
            offsets.add(textOffset);
            textOffset += textLength(e.token());
        }
        return root;
    }

    /** The characters a token adds to the text: none for a control token (BOS, end of turn), which decodes to nothing. */
    private int textLength(int id) {
        return tokenizer.pieceType(id) == PieceType.CONTROL ? 0 : text(id).length();
    }

    private ObjectNode token(ObjectNode node, int id, float logprob) {
        byte[] bytes = tokenizer.tokenBytes(id);
        node.put("token", new String(bytes, StandardCharsets.UTF_8));
        node.put("logprob", logprob);
        ArrayNode b = node.putArray("bytes");
        for (byte x : bytes) {
            b.add(x & 0xFF);
        }
        return node;
    }

    private String text(int id) {
        return new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8);
    }
}
