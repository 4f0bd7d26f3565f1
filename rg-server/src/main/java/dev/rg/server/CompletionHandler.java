package dev.rg.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * POST /v1/chat/completions and /v1/completions: validates the body, queues the request on the scheduler and
 * answers with the whole completion or, with {@code "stream": true}, with server-sent events ending in
 * {@code data: [DONE]}. A streaming client that goes away cancels its sequence (noticed at the next write,
 * i.e. at the next token, and the scheduler drops it before its next step).
 */
final class CompletionHandler {
    private final RgServer server;
    private final boolean chat;

    CompletionHandler(RgServer server, boolean chat) {
        this.server = server;
        this.chat = chat;
    }

    void handle(ServerRequest req, ServerResponse res) {
        Engine engine = server.engine();
        byte[] body = readBody(req, server.options().maxBodyBytes());
        List<CompletionRequest> prompts = engine.parser().parse(body, chat);
        CompletionRequest request = prompts.get(0); // the prompts share every parameter
        List<Generation> choices = engine.scheduler().submit(prompts);
        String id = (chat ? "chatcmpl-" : "cmpl-") + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        long created = System.currentTimeMillis() / 1000;
        try {
            if (request.stream()) {
                stream(choices, res, id, created, engine);
            } else {
                whole(choices, res, id, created, engine);
            }
        } finally {
            for (Generation g : choices) {
                g.cancel();
            }
            engine.scheduler().wake();
        }
    }

    private void whole(List<Generation> choices, ServerResponse res, String id, long created, Engine engine) {
        ObjectNode body = Replies.whole(choices, chat, server.json(), engine.tokenizer(), id, created);
        server.metrics().request(chat ? "chat" : "completions", 200);
        server.sendJson(res, 200, body);
    }

    private void stream(List<Generation> choices, ServerResponse res, String id, long created, Engine engine) {
        int n = choices.size();
        CompletionRequest request = choices.get(0).request;
        OpenAiJson out = server.json();
        LogprobsJson[] render = new LogprobsJson[n];
        for (int i = 0; i < n && request.logprobs(); i++) {
            render[i] = out.logprobs(engine.tokenizer()); // one per choice: it keeps its reply's text offset
        }
        Generation.Done[] done = new Generation.Done[n];
        try (SseStream sink = new SseStream(res)) {
            for (int i = 0; i < n && chat; i++) {
                emit(sink, out.text(out.chunk(id, created, true, i, "assistant", "", null, null)));
            }
            for (int finished = 0; finished < n; ) {
                Generation.Choice c = Replies.next(choices);
                int i = c.index();
                switch (c.event()) {
                    case Generation.Text t -> {
                        ObjectNode lp = null;
                        if (render[i] != null) {
                            lp = chat ? render[i].chat(t.logprobs()) : render[i].completion(t.logprobs());
                        }
                        emit(sink, out.text(out.chunk(id, created, chat, i, null, t.text(), lp, null)));
                    }
                    case Generation.Failed f -> {
                        emit(sink, out.text(out.error(f.error())));
                        return;
                    }
                    case Generation.Done d -> {
                        emit(sink, out.text(out.chunk(id, created, chat, i, null, null, null, d.finishReason())));
                        done[i] = d;
                        finished++;
                    }
                }
            }
            if (request.includeUsage()) {
                emit(sink, out.text(out.usageChunk(id, created, chat, Replies.usage(choices, done))));
            }
            emit(sink, "[DONE]");
            server.metrics().request(chat ? "chat" : "completions", 200);
        } catch (UncheckedIOException | IllegalStateException e) {
            // the client went away (a write failed): handle() then cancels every choice
            server.metrics().request(chat ? "chat" : "completions", 499);
        }
    }

    /** One {@code data: ...} event, as OpenAI sends them. */
    private static void emit(SseStream sink, String data) {
        sink.data(data);
    }

    /** The body, at most {@code limit} bytes (413 beyond). */
    static byte[] readBody(ServerRequest req, long limit) {
        var length = req.headers().contentLength();
        if (length.isPresent() && length.getAsLong() > limit) {
            throw ApiException.tooLarge(null, "the request body has " + length.getAsLong() + " bytes, more than this server's"
                    + " limit of " + limit + " (--max-body-mb)");
        }
        try (InputStream in = req.content().inputStream()) {
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            if (body.length > limit) {
                throw ApiException.tooLarge(null, "the request body is larger than this server's limit of " + limit
                        + " bytes (--max-body-mb)");
            }
            return body;
        } catch (IOException e) {
            throw ApiException.badRequest(null, "the request body could not be read: " + e.getMessage());
        }
    }

}
