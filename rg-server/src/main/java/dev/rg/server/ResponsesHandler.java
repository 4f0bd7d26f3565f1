package dev.rg.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenAI's Responses API: {@code POST /v1/responses} (whole, or streamed as its typed server-sent events), {@code GET
 * /v1/responses/{id}} and {@code DELETE /v1/responses/{id}}. A request runs as the chat completion it asks for
 * ({@link ResponsesRequest}), on the same scheduler; {@code previous_response_id} continues a stored conversation, and
 * the state cache resumes it from the state the previous turn left, so only the new turn is prefilled.
 */
final class ResponsesHandler {
    /** Kept responses: at most this many, and this many characters of conversation in all. */
    private static final int STORED_RESPONSES = 4096;
    private static final long STORED_CHARS = 32L << 20;

    private final RgServer server;
    private final ObjectMapper json;
    private final ResponseStore store = new ResponseStore(STORED_RESPONSES, STORED_CHARS);
    private final ResponsesJson bodies;

    ResponsesHandler(RgServer server) {
        this.server = server;
        this.json = server.mapper();
        this.bodies = new ResponsesJson(json, server.options().modelId());
    }

    /** The Response object of {@code reply} (see {@link ResponsesJson#response}). */
    private ObjectNode response(Reply reply, String finishReason, String text, ObjectNode chatUsage) {
        return bodies.response(reply.request(), reply.id(), reply.messageId(), reply.created(), finishReason, text, chatUsage);
    }

    void create(ServerRequest req, ServerResponse res) {
        Engine engine = server.engine();
        JsonNode body = RequestParser.tree(json, CompletionHandler.readBody(req, server.options().maxBodyBytes()));
        ResponsesRequest r = ResponsesRequest.read(body, id -> store.previous(id).conversation());
        List<CompletionRequest> prompts;
        try {
            prompts = engine.parser().parse(r.chatBody(json), true);
        } catch (ApiException e) {
            throw ResponsesRequest.renamed(e);
        }
        List<Generation> choices = engine.scheduler().submit(prompts);
        Reply reply = new Reply(r, RandomIds.of("resp_"), RandomIds.of("msg_"), System.currentTimeMillis() / 1000);
        try {
            if (r.stream) {
                stream(choices, reply, res);
            } else {
                whole(choices, reply, engine, res);
            }
        } finally {
            for (Generation g : choices) {
                g.cancel();
            }
            engine.scheduler().wake();
        }
    }

    void get(ServerRequest req, ServerResponse res) {
        ResponseStore.Stored s = store.get(req.path().pathParameters().get("id"), "response_id");
        server.metrics().request("responses", 200);
        server.sendJson(res, 200, s.body());
    }

    /** {@code GET /v1/responses/{id}/input_items}: the messages the response's request added, as OpenAI lists them. */
    void inputItems(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        ResponseStore.Stored s = store.get(id, "response_id");
        String order = req.query().first("order").orElse("desc");
        if (!order.equals("asc") && !order.equals("desc")) {
            throw ApiException.badRequest("order", "'order' must be \"asc\" or \"desc\", got \"" + order + "\"");
        }
        List<ObjectNode> items = new ArrayList<>();
        for (int i = 0; i < s.input().size(); i++) {
            ResponsesRequest.Message m = s.input().get(i);
            ObjectNode item = json.createObjectNode().put("type", "message").put("id", "msg_" + id.substring("resp_".length()) + "_in" + i)
                    .put("status", "completed").put("role", m.role());
            item.putArray("content").addObject().put("type", m.role().equals("assistant") ? "output_text" : "input_text")
                    .put("text", m.text());
            items.add(item);
        }
        if (order.equals("desc")) {
            java.util.Collections.reverse(items);
        }
        int limit = ListPages.limit(req.query().first("limit").orElse(null), 20, 100);
        List<ObjectNode> page = ListPages.after(items, item -> item.get("id").asText(), req.query().first("after").orElse(null), limit);
        var data = json.createArrayNode();
        page.forEach(data::add);
        server.metrics().request("responses", 200);
        server.sendJson(res, 200, ListPages.body(json, data, page, item -> item.get("id").asText(), items));
    }

    void delete(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        if (!store.delete(id)) {
            store.get(id, "response_id"); // answers the 404
        }
        server.metrics().request("responses", 200);
        server.sendJson(res, 200, json.createObjectNode().put("id", id).put("object", "response").put("deleted", true));
    }

    /** One response being answered: the request and the ids and time it is answered with. */
    private record Reply(ResponsesRequest request, String id, String messageId, long created) {}

    private void whole(List<Generation> choices, Reply reply, Engine engine, ServerResponse res) {
        ObjectNode chat = Replies.whole(choices, true, server.json(), engine.tokenizer(), reply.id(), reply.created());
        String text = chat.at("/choices/0/message/content").asText();
        ObjectNode body = response(reply, chat.at("/choices/0/finish_reason").asText(), text, (ObjectNode) chat.get("usage"));
        keep(reply, body, text);
        server.metrics().request("responses", 200);
        server.sendJson(res, 200, body);
    }

    private void stream(List<Generation> choices, Reply reply, ServerResponse res) {
        int[] sequence = {0};
        try (SseStream sink = new SseStream(res)) {
            ObjectNode started = response(reply, null, null, null);
            emit(sink, sequence, "response.created", json.createObjectNode().set("response", started));
            emit(sink, sequence, "response.in_progress", json.createObjectNode().set("response", started));
            ObjectNode item = bodies.message(reply.messageId(), "in_progress", null);
            emit(sink, sequence, "response.output_item.added", json.createObjectNode().put("output_index", 0).set("item", item));
            emit(sink, sequence, "response.content_part.added", part(reply).set("part", bodies.outputText("")));
            StringBuilder text = new StringBuilder();
            while (true) {
                Generation.Choice c = Replies.next(choices);
                switch (c.event()) {
                    case Generation.Text t -> {
                        text.append(t.text());
                        ObjectNode delta = part(reply).put("delta", t.text());
                        delta.putArray("logprobs");
                        emit(sink, sequence, "response.output_text.delta", delta);
                    }
                    case Generation.Failed f -> {
                        ObjectNode failed = response(reply, null, null, null).put("status", "failed");
                        failed.putObject("error").put("code", "server_error").put("message", f.error().getMessage());
                        emit(sink, sequence, "response.failed", json.createObjectNode().set("response", failed));
                        return;
                    }
                    case Generation.Done d -> {
                        String all = text.toString();
                        ObjectNode done = part(reply).put("text", all);
                        done.putArray("logprobs");
                        emit(sink, sequence, "response.output_text.done", done);
                        emit(sink, sequence, "response.content_part.done", part(reply).set("part", bodies.outputText(all)));
                        ObjectNode body = response(reply, d.finishReason(), all, server.json().usage(d));
                        emit(sink, sequence, "response.output_item.done", json.createObjectNode().put("output_index", 0)
                                .set("item", body.get("output").get(0)));
                        keep(reply, body, all);
                        emit(sink, sequence, body.get("status").asText().equals("completed") ? "response.completed"
                                : "response.incomplete", json.createObjectNode().set("response", body));
                        server.metrics().request("responses", 200);
                        return;
                    }
                }
            }
        } catch (UncheckedIOException | IllegalStateException e) {
            server.metrics().request("responses", 499); // the client went away: create() cancels the sequence
        }
    }

    private void keep(Reply reply, ObjectNode body, String text) {
        if (reply.request().store) {
            List<ResponsesRequest.Message> conversation = new ArrayList<>(reply.request().conversation());
            conversation.add(new ResponsesRequest.Message("assistant", text));
            store.put(reply.id(), body, conversation, reply.request().input);
        }
    }

    /** The fields that place an event in the reply: item, output index and content index. */
    private ObjectNode part(Reply reply) {
        return json.createObjectNode().put("item_id", reply.messageId()).put("output_index", 0).put("content_index", 0);
    }

    /** An event of the Responses stream: {@code event: TYPE} and data with its {@code type} and sequence number. */
    private void emit(SseStream sink, int[] sequence, String type, ObjectNode data) {
        ObjectNode o = json.createObjectNode().put("type", type).put("sequence_number", sequence[0]++);
        o.setAll(data);
        sink.event(type, server.json().text(o));
    }
}
