package dev.rg.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.List;

/**
 * OpenAI's Batch API: {@code POST /v1/batches}, {@code GET /v1/batches[?limit&after]}, {@code GET /v1/batches/{id}}
 * and {@code POST /v1/batches/{id}/cancel}.
 */
final class BatchesHandler {
    private final RgServer server;
    private final ApiBatches batches;

    BatchesHandler(RgServer server, ApiBatches batches) {
        this.server = server;
        this.batches = batches;
    }

    void create(ServerRequest req, ServerResponse res) {
        JsonNode body = RequestParser.tree(server.mapper(), CompletionHandler.readBody(req, server.options().maxBodyBytes()));
        answer(res, batches.create(body));
    }

    void list(ServerRequest req, ServerResponse res) {
        int limit = ListPages.limit(req.query().first("limit").orElse(null), 20, 100);
        List<ApiBatch> all = batches.list();
        List<ApiBatch> page = ListPages.after(all, b -> b.id, req.query().first("after").orElse(null), limit);
        ArrayNode data = server.mapper().createArrayNode();
        page.forEach(b -> data.add(b.body(server.mapper(), server.options().modelId())));
        server.metrics().request("batches", 200);
        server.sendJson(res, 200, ListPages.body(server.mapper(), data, page, b -> b.id, all));
    }

    void get(ServerRequest req, ServerResponse res) {
        answer(res, batches.get(req.path().pathParameters().get("id")));
    }

    void cancel(ServerRequest req, ServerResponse res) {
        answer(res, batches.cancel(req.path().pathParameters().get("id")));
    }

    private void answer(ServerResponse res, ApiBatch b) {
        server.metrics().request("batches", 200);
        server.sendJson(res, 200, b.body(server.mapper(), server.options().modelId()));
    }
}
