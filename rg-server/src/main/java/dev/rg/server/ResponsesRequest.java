package dev.rg.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A body of OpenAI's Responses API ({@code POST /v1/responses}) read as the chat completion it asks for: {@code
 * instructions} become a system message, the stored conversation of {@code previous_response_id} comes next, then
 * {@code input} (a string, or messages whose content is text); {@code max_output_tokens}, {@code temperature}, {@code
 * top_p} and {@code text.format} map to their chat parameters, and rg's extensions ({@code seed}, {@code top_k}, ...)
 * pass through. Tools, and input items other than text messages, are refused with a 400 naming them.
 */
final class ResponsesRequest {
    /** A message of the conversation: its role and text. */
    record Message(String role, String text) {}

    /** Chat parameters that pass through unchanged (OpenAI's Responses API has no such fields; rg's extensions). */
    private static final List<String> PASSED = List.of("seed", "top_k", "min_p", "repetition_penalty", "frequency_penalty",
            "presence_penalty", "stop", "ignore_eos", "logit_bias", "user");

    final JsonNode body;
    /** The conversation before this request's input: the previous response's, or empty. */
    final List<Message> history;
    /** This request's input messages (after {@link #history}), without the instructions. */
    final List<Message> input;
    final String instructions;
    final String previousResponseId;
    final boolean stream;
    final boolean store;

    private ResponsesRequest(JsonNode body, List<Message> history, List<Message> input, String instructions,
            String previousResponseId, boolean stream, boolean store) {
        this.body = body;
        this.history = history;
        this.input = input;
        this.instructions = instructions;
        this.previousResponseId = previousResponseId;
        this.stream = stream;
        this.store = store;
    }

    /**
     * Reads a Responses body.
     *
     * @param previous the stored conversation of a response id (a 400 when it is not stored)
     */
    static ResponsesRequest read(JsonNode body, java.util.function.Function<String, List<Message>> previous) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest(null, "the body must be a JSON object");
        }
        JsonNode tools = body.get("tools");
        if (tools != null && !tools.isNull() && !(tools.isArray() && tools.isEmpty())) {
            throw ApiException.badRequest("tools", "tools are not supported by this server (RecurrentGemma has no tool calling)");
        }
        String instructions = optionalText(body, "instructions");
        String previousId = optionalText(body, "previous_response_id");
        List<Message> history = previousId == null ? List.of() : previous.apply(previousId);
        List<Message> input = inputMessages(body.get("input"));
        return new ResponsesRequest(body, history, input, instructions, previousId, body.path("stream").asBoolean(false),
                !body.has("store") || body.get("store").asBoolean(true));
    }

    /** The chat completions body this request is run as. */
    ObjectNode chatBody(ObjectMapper json) {
        ObjectNode chat = json.createObjectNode();
        if (body.has("model")) {
            chat.set("model", body.get("model"));
        }
        ArrayNode messages = chat.putArray("messages");
        if (instructions != null) {
            messages.addObject().put("role", "system").put("content", instructions);
        }
        for (Message m : conversation()) {
            messages.addObject().put("role", m.role()).put("content", m.text());
        }
        copy(body, "max_output_tokens", chat, "max_tokens");
        copy(body, "temperature", chat, "temperature");
        copy(body, "top_p", chat, "top_p");
        for (String field : PASSED) {
            copy(body, field, chat, field);
        }
        JsonNode format = body.at("/text/format");
        if (!format.isMissingNode() && !format.isNull()) {
            String type = format.path("type").asText("");
            switch (type) {
                case "text" -> { }
                case "json_object" -> chat.putObject("response_format").put("type", "json_object");
                default -> throw ApiException.badRequest("text.format", "text.format.type must be \"text\" or \"json_object\""
                        + " (JSON schemas are not supported), got \"" + type + "\"");
            }
        }
        return chat;
    }

    /** The previous conversation followed by this request's input. */
    List<Message> conversation() {
        List<Message> all = new ArrayList<>(history);
        all.addAll(input);
        return all;
    }

    /** A parameter error of the chat parser, named as this API names it. */
    static ApiException renamed(ApiException e) {
        String param = e.param() == null ? null : rename(e.param());
        return new ApiException(e.status(), e.type(), param, e.code(), rename(e.getMessage()));
    }

    private static String rename(String s) {
        return s.replace("max_tokens", "max_output_tokens").replace("response_format", "text.format")
                .replace("messages", "input");
    }

    private static List<Message> inputMessages(JsonNode input) {
        if (input == null || input.isNull()) {
            throw ApiException.badRequest("input", "'input' is required: a string, or an array of messages");
        }
        if (input.isTextual()) {
            return List.of(new Message("user", input.textValue()));
        }
        if (!input.isArray() || input.isEmpty()) {
            throw ApiException.badRequest("input", "'input' must be a string or a non-empty array of messages");
        }
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            String where = "input[" + i + "]";
            String type = item.path("type").asText("message");
            if (!item.isObject() || !type.equals("message") || !item.has("role")) {
                throw ApiException.badRequest(where, where + ": only messages ({\"role\", \"content\"}) are supported, got "
                        + (item.isObject() ? "type \"" + type + "\"" : item.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
            }
            out.add(new Message(item.path("role").asText(), text(item.get("content"), where)));
        }
        return out;
    }

    /** A message's content: a string, or parts of type input_text / output_text. */
    private static String text(JsonNode content, String where) {
        if (content != null && content.isTextual()) {
            return content.textValue();
        }
        if (content != null && content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                String type = part.path("type").asText("");
                if (!(type.equals("input_text") || type.equals("output_text") || type.equals("text")) || !part.path("text").isTextual()) {
                    throw ApiException.badRequest(where + ".content", where + ".content: only text parts are supported"
                            + " ({\"type\": \"input_text\", \"text\": ...}), got type \"" + type + "\"");
                }
                sb.append(part.get("text").textValue());
            }
            return sb.toString();
        }
        throw ApiException.badRequest(where + ".content", where + ".content must be a string or an array of text parts");
    }

    private static String optionalText(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest(field, "'" + field + "' must be a string");
        }
        return v.textValue();
    }

    private static void copy(JsonNode from, String field, ObjectNode to, String as) {
        JsonNode v = from.get(field);
        if (v != null && !v.isNull()) {
            to.set(as, v);
        }
    }
}
