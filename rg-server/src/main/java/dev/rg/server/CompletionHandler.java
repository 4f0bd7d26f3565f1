package dev.rg.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.generate.TokenLogprobs;
import io.helidon.http.HeaderNames;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * POST /v1/chat/completions and /v1/completions: validates the body, queues the request on the scheduler and
 * answers with the whole completion or, with {@code "stream": true}, with server-sent events ending in
 * {@code data: [DONE]}. A streaming client that goes away cancels its sequence (noticed at the next write,
 * i.e. at the next token, and the scheduler drops it before its next step).
 */
final class CompletionHandler {
    /** Longest a request waits for its next token before it is failed (bounds every wait; a step takes milliseconds). */
    private static final long STALL_LIMIT_NANOS = TimeUnit.MINUTES.toNanos(10);

    private final RgServer server;
    private final boolean chat;

    CompletionHandler(RgServer server, boolean chat) {
        this.server = server;
        this.chat = chat;
    }

    void handle(ServerRequest req, ServerResponse res) {
        Engine engine = server.engine();
        byte[] body = readBody(req, server.options().maxBodyBytes());
        CompletionRequest request = engine.parser().parse(body, chat);
        Generation g = engine.scheduler().submit(request);
        String id = (chat ? "chatcmpl-" : "cmpl-") + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        long created = System.currentTimeMillis() / 1000;
        if (request.stream()) {
            stream(g, res, id, created, engine);
        } else {
            whole(g, res, id, created, engine);
        }
    }

    private void whole(Generation g, ServerResponse res, String id, long created, Engine engine) {
        StringBuilder text = new StringBuilder();
        List<TokenLogprobs> logprobs = new ArrayList<>();
        try {
            while (true) {
                Generation.Event e = next(g, engine);
                switch (e) {
                    case Generation.Text t -> {
                        text.append(t.text());
                        logprobs.addAll(t.logprobs());
                    }
                    case Generation.Failed f -> throw f.error();
                    case Generation.Done d -> {
                        server.metrics().request(chat ? "chat" : "completions", 200);
                        ObjectNode lp = null;
                        if (g.request.logprobs()) {
                            LogprobsJson render = server.json().logprobs(engine.tokenizer());
                            lp = chat ? render.chat(logprobs) : render.completion(logprobs);
                        }
                        server.sendJson(res, 200, server.json().completion(id, created, chat, text.toString(), lp, d));
                        return;
                    }
                }
            }
        } finally {
            g.cancel();
        }
    }

    private void stream(Generation g, ServerResponse res, String id, long created, Engine engine) {
        OpenAiJson out = server.json();
        LogprobsJson render = g.request.logprobs() ? out.logprobs(engine.tokenizer()) : null;
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (SseSink sink = res.sink(SseSink.TYPE)) {
            if (chat) {
                emit(sink, out.text(out.chunk(id, created, true, "assistant", "", null, null)));
            }
            while (true) {
                Generation.Event e = next(g, engine);
                switch (e) {
                    case Generation.Text t -> {
                        ObjectNode lp = null;
                        if (render != null) {
                            lp = chat ? render.chat(t.logprobs()) : render.completion(t.logprobs());
                        }
                        emit(sink, out.text(out.chunk(id, created, chat, null, t.text(), lp, null)));
                    }
                    case Generation.Failed f -> {
                        emit(sink, out.text(out.error(f.error())));
                        return;
                    }
                    case Generation.Done d -> {
                        emit(sink, out.text(out.chunk(id, created, chat, null, null, null, d.finishReason())));
                        if (g.request.includeUsage()) {
                            emit(sink, out.text(out.usageChunk(id, created, chat, d)));
                        }
                        emit(sink, "[DONE]");
                        server.metrics().request(chat ? "chat" : "completions", 200);
                        return;
                    }
                }
            }
        } catch (UncheckedIOException | IllegalStateException e) {
            // the client went away (a write failed): the finally below cancels the sequence
            server.metrics().request(chat ? "chat" : "completions", 499);
        } finally {
            g.cancel();
            engine.scheduler().wake();
        }
    }

    /** One {@code data: ...} event; Helidon writes {@code data:} and the SSE spec drops one leading space, as OpenAI sends it. */
    private static void emit(SseSink sink, String data) {
        sink.emit(SseEvent.builder().data(" " + data).build());
    }

    /** The next event; fails the request if the scheduler produced nothing for {@link #STALL_LIMIT_NANOS}. */
    private static Generation.Event next(Generation g, Engine engine) {
        long deadline = System.nanoTime() + STALL_LIMIT_NANOS;
        try {
            while (System.nanoTime() < deadline) {
                Generation.Event e = g.next(200, TimeUnit.MILLISECONDS);
                if (e != null) {
                    return e;
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        g.cancel();
        return new Generation.Failed(ApiException.internal("no token was generated for 10 minutes; the request was dropped"));
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
