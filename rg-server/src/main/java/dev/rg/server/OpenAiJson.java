package dev.rg.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The response bodies of OpenAI's API: completions, streamed chunks, usage, models and errors. */
final class OpenAiJson {
    private final ObjectMapper json;
    private final String model;

    OpenAiJson(ObjectMapper json, String model) {
        this.json = json;
        this.model = model;
    }

    /** Renders one reply's per-token log-probabilities with {@code tokenizer}'s token texts. */
    LogprobsJson logprobs(GemmaTokenizer tokenizer) {
        return new LogprobsJson(json, tokenizer);
    }

    /**
     * One choice of a whole completion.
     *
     * @param logprobs null when the request did not ask for them
     */
    record Reply(String text, ObjectNode logprobs, String finishReason) {}

    /** A whole (non-streamed) completion: its choices in order, and the usage of all of them. */
    ObjectNode completion(String id, long created, boolean chat, List<Reply> replies, Generation.Done usage) {
        ObjectNode root = header(id, created, chat ? "chat.completion" : "text_completion");
        ArrayNode choices = root.putArray("choices");
        for (int i = 0; i < replies.size(); i++) {
            Reply r = replies.get(i);
            ObjectNode choice = choices.addObject();
            choice.put("index", i);
            if (chat) {
                ObjectNode message = choice.putObject("message");
                message.put("role", "assistant");
                message.put("content", r.text());
                message.putNull("refusal");
            } else {
                choice.put("text", r.text());
            }
            putLogprobs(choice, r.logprobs());
            choice.put("finish_reason", r.finishReason());
        }
        root.set("usage", usage(usage));
        return root;
    }

    /**
     * A streamed chunk of choice {@code index} with a text delta (and the role on a chat's first chunk), or the finish
     * reason; {@code logprobs} those of the delta's tokens, null when the request did not ask for them.
     */
    ObjectNode chunk(String id, long created, boolean chat, int index, String role, String text, ObjectNode logprobs,
            String finishReason) {
        ObjectNode root = header(id, created, chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (role != null) {
                delta.put("role", role);
            }
            if (text != null) {
                delta.put("content", text);
            }
        } else {
            choice.put("text", text == null ? "" : text);
        }
        putLogprobs(choice, logprobs);
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        return root;
    }

    private static void putLogprobs(ObjectNode choice, ObjectNode logprobs) {
        if (logprobs == null) {
            choice.putNull("logprobs");
        } else {
            choice.set("logprobs", logprobs);
        }
    }

    /** The last chunk of a stream with {@code stream_options.include_usage}: no choices, the usage. */
    ObjectNode usageChunk(String id, long created, boolean chat, Generation.Done done) {
        ObjectNode root = header(id, created, chat ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        root.set("usage", usage(done));
        return root;
    }

    ObjectNode usage(Generation.Done done) {
        ObjectNode u = json.createObjectNode();
        u.put("prompt_tokens", done.promptTokens());
        u.put("completion_tokens", done.completionTokens());
        u.put("total_tokens", done.promptTokens() + done.completionTokens());
        u.putObject("prompt_tokens_details").put("cached_tokens", done.cachedTokens());
        return u;
    }

    ObjectNode models(long created) {
        ObjectNode root = json.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        data.add(model(created));
        return root;
    }

    ObjectNode model(long created) {
        ObjectNode m = json.createObjectNode();
        m.put("id", model);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "rg");
        return m;
    }

    ObjectNode error(ApiException e) {
        ObjectNode root = json.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        if (e.param() == null) {
            err.putNull("param");
        } else {
            err.put("param", e.param());
        }
        if (e.code() == null) {
            err.putNull("code");
        } else {
            err.put("code", e.code());
        }
        return root;
    }

    byte[] bytes(ObjectNode node) {
        return text(node).getBytes(StandardCharsets.UTF_8);
    }

    String text(ObjectNode node) {
        try {
            return json.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private ObjectNode header(String id, long created, String object) {
        ObjectNode root = json.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        root.put("system_fingerprint", "rg");
        return root;
    }
}
