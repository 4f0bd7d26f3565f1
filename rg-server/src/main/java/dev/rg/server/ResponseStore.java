package dev.rg.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Responses kept for {@code GET /v1/responses/{id}} and {@code previous_response_id} ({@code "store": true}, the
 * default): each with its conversation (the messages it continued, its input and its reply), least recently used out
 * beyond a number of responses or of characters of conversation. What continues a conversation is its text: the state
 * the next turn resumes from is the state cache's, found by the turn's tokens.
 */
final class ResponseStore {
    /**
     * A kept response: its body as answered, the conversation up to and including its reply, and its own input (the
     * messages it added, for {@code input_items}).
     */
    record Stored(ObjectNode body, List<ResponsesRequest.Message> conversation, List<ResponsesRequest.Message> input, long chars) {}

    private final int maxResponses;
    private final long maxChars;
    private final LinkedHashMap<String, Stored> responses = new LinkedHashMap<>(16, 0.75f, true);
    private long chars;

    ResponseStore(int maxResponses, long maxChars) {
        this.maxResponses = maxResponses;
        this.maxChars = maxChars;
    }

    synchronized void put(String id, ObjectNode body, List<ResponsesRequest.Message> conversation,
            List<ResponsesRequest.Message> input) {
        long size = body.toString().length();
        for (ResponsesRequest.Message m : conversation) {
            size += m.text().length();
        }
        Stored old = responses.put(id, new Stored(body, List.copyOf(conversation), List.copyOf(input), size));
        chars += size - (old == null ? 0 : old.chars());
        for (Iterator<Map.Entry<String, Stored>> it = responses.entrySet().iterator();
                it.hasNext() && (responses.size() > maxResponses || chars > maxChars); ) {
            Map.Entry<String, Stored> eldest = it.next();
            if (eldest.getKey().equals(id)) {
                continue; // the newest stays, even alone over the bound
            }
            chars -= eldest.getValue().chars();
            it.remove();
        }
    }

    /** Response {@code id}, or 404 naming {@code param}. */
    synchronized Stored get(String id, String param) {
        Stored s = responses.get(id);
        if (s == null) {
            throw ApiException.notFound(param, "response_not_found", "No response with id '" + id + "' is stored (it was"
                    + " created with \"store\": false, deleted, or dropped as the least recently used)");
        }
        return s;
    }

    /**
     * The response a request continues ({@code previous_response_id}): a 400 with code {@code
     * previous_response_not_found} when it is not stored, as OpenAI answers (clients such as Codex resend the whole
     * conversation on that code).
     */
    synchronized Stored previous(String id) {
        Stored s = responses.get(id);
        if (s == null) {
            throw new ApiException(400, "invalid_request_error", "previous_response_id", "previous_response_not_found",
                    "Previous response with id '" + id + "' not found.");
        }
        return s;
    }

    synchronized boolean delete(String id) {
        Stored s = responses.remove(id);
        if (s != null) {
            chars -= s.chars();
        }
        return s != null;
    }
}
