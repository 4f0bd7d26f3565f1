package dev.rg.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The bodies of OpenAI's Responses API: the {@code Response} object, its assistant message item and output text part.
 * Shared by the endpoint ({@link ResponsesHandler}) and batches of {@code /v1/responses} requests ({@link OpenAiBatch}).
 */
final class ResponsesJson {
    private final ObjectMapper json;
    private final String model;

    ResponsesJson(ObjectMapper json, String model) {
        this.json = json;
        this.model = model;
    }

    /**
     * The Response object: in progress (no finish reason yet, no output), or finished with its text and usage
     * ({@code completed}, or {@code incomplete} when {@code max_output_tokens} ended it).
     */
    ObjectNode response(ResponsesRequest r, String id, String messageId, long created, String finishReason, String text,
            ObjectNode chatUsage) {
        ObjectNode o = json.createObjectNode();
        o.put("id", id);
        o.put("object", "response");
        o.put("created_at", created);
        boolean finished = finishReason != null;
        boolean complete = "stop".equals(finishReason);
        o.put("status", !finished ? "in_progress" : complete ? "completed" : "incomplete");
        o.putNull("error");
        if (finished && !complete) {
            o.putObject("incomplete_details").put("reason", "max_output_tokens");
        } else {
            o.putNull("incomplete_details");
        }
        o.put("instructions", r.instructions);
        JsonNode max = r.body.get("max_output_tokens");
        o.set("max_output_tokens", max == null ? json.nullNode() : max);
        o.put("model", model);
        var output = o.putArray("output");
        if (finished) {
            output.add(message(messageId, complete ? "completed" : "incomplete", text));
        }
        o.put("parallel_tool_calls", false);
        o.put("previous_response_id", r.previousResponseId);
        o.putObject("reasoning").putNull("effort").putNull("summary");
        o.put("store", r.store);
        o.set("temperature", r.body.has("temperature") ? r.body.get("temperature") : json.getNodeFactory().numberNode(1.0));
        ObjectNode format = o.putObject("text").putObject("format");
        format.put("type", r.body.at("/text/format/type").asText("text"));
        o.put("tool_choice", "none");
        o.putArray("tools");
        o.set("top_p", r.body.has("top_p") ? r.body.get("top_p") : json.getNodeFactory().numberNode(1.0));
        o.put("truncation", "disabled");
        if (chatUsage == null) {
            o.putNull("usage");
        } else {
            long in = chatUsage.path("prompt_tokens").asLong();
            long outTokens = chatUsage.path("completion_tokens").asLong();
            ObjectNode usage = o.putObject("usage");
            usage.put("input_tokens", in);
            usage.putObject("input_tokens_details").put("cached_tokens", chatUsage.at("/prompt_tokens_details/cached_tokens").asLong());
            usage.put("output_tokens", outTokens);
            usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
            usage.put("total_tokens", in + outTokens);
        }
        o.putNull("user");
        o.set("metadata", r.body.has("metadata") && r.body.get("metadata").isObject() ? r.body.get("metadata") : json.createObjectNode());
        return o;
    }

    /** The reply as an output item: an assistant message with one output_text part (none while in progress). */
    ObjectNode message(String messageId, String status, String text) {
        ObjectNode m = json.createObjectNode();
        m.put("type", "message");
        m.put("id", messageId);
        m.put("status", status);
        m.put("role", "assistant");
        var content = m.putArray("content");
        if (text != null) {
            content.add(outputText(text));
        }
        return m;
    }

    ObjectNode outputText(String text) {
        ObjectNode t = json.createObjectNode().put("type", "output_text").put("text", text);
        t.putArray("annotations");
        t.putArray("logprobs");
        return t;
    }

}
