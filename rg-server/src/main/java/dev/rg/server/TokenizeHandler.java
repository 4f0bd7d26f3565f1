package dev.rg.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * POST /tokenize and /detokenize, in vLLM's wire format: a client counts a prompt's tokens (and sees the ids the
 * server will prefill: BOS, chat turns) before it sends the request, or turns ids back into text. Neither touches
 * the model or the scheduler.
 */
final class TokenizeHandler {
    private final RgServer server;

    TokenizeHandler(RgServer server) {
        this.server = server;
    }

    /** {@code {"count": n, "max_model_len": --max-prompt-tokens, "tokens": [...]}}. */
    void tokenize(ServerRequest req, ServerResponse res) {
        Engine engine = server.engine();
        int[] ids = engine.parser().tokenizeRequest(CompletionHandler.readBody(req, server.options().maxBodyBytes()));
        ObjectNode body = server.mapper().createObjectNode();
        body.put("count", ids.length);
        body.put("max_model_len", server.options().maxPromptTokens());
        var tokens = body.putArray("tokens");
        for (int id : ids) {
            tokens.add(id);
        }
        server.metrics().request("tokenize", 200);
        server.sendJson(res, 200, body);
    }

    /** {@code {"prompt": text}}. */
    void detokenize(ServerRequest req, ServerResponse res) {
        Engine engine = server.engine();
        int[] ids = engine.parser().detokenizeRequest(CompletionHandler.readBody(req, server.options().maxBodyBytes()));
        ObjectNode body = server.mapper().createObjectNode();
        body.put("prompt", engine.tokenizer().decode(ids));
        server.metrics().request("detokenize", 200);
        server.sendJson(res, 200, body);
    }
}
