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
        int n = choices.size();
        CompletionRequest request = choices.get(0).request;
        StringBuilder[] texts = new StringBuilder[n];
        List<List<TokenLogprobs>> logprobs = new ArrayList<>();
        Generation.Done[] done = new Generation.Done[n];
        for (int i = 0; i < n; i++) {
            texts[i] = new StringBuilder();
            logprobs.add(new ArrayList<>());
        }
        for (int finished = 0; finished < n; ) {
            Generation.Choice c = next(choices);
            switch (c.event()) {
                case Generation.Text t -> {
                    texts[c.index()].append(t.text());
                    logprobs.get(c.index()).addAll(t.logprobs());
                }
                case Generation.Failed f -> throw f.error();
                case Generation.Done d -> {
                    done[c.index()] = d;
                    finished++;
                }
            }
        }
        List<OpenAiJson.Reply> replies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ObjectNode lp = null;
            if (request.logprobs()) {
                LogprobsJson render = server.json().logprobs(engine.tokenizer());
                lp = chat ? render.chat(logprobs.get(i)) : render.completion(logprobs.get(i));
            }
            replies.add(new OpenAiJson.Reply(texts[i].toString(), lp, done[i].finishReason()));
        }
        server.metrics().request(chat ? "chat" : "completions", 200);
        server.sendJson(res, 200, server.json().completion(id, created, chat, replies, usage(choices, done)));
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
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (SseSink sink = res.sink(SseSink.TYPE)) {
            for (int i = 0; i < n && chat; i++) {
                emit(sink, out.text(out.chunk(id, created, true, i, "assistant", "", null, null)));
            }
            for (int finished = 0; finished < n; ) {
                Generation.Choice c = next(choices);
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
                emit(sink, out.text(out.usageChunk(id, created, chat, usage(choices, done))));
            }
            emit(sink, "[DONE]");
            server.metrics().request(chat ? "chat" : "completions", 200);
        } catch (UncheckedIOException | IllegalStateException e) {
            // the client went away (a write failed): handle() then cancels every choice
            server.metrics().request(chat ? "chat" : "completions", 499);
        }
    }

    /**
     * The usage of a request's choices: each prompt (and its cached part) once, however many choices continue it, and
     * the tokens every choice generated.
     */
    private static Generation.Done usage(List<Generation> choices, Generation.Done[] done) {
        int prompt = 0;
        int cached = 0;
        int completion = 0;
        for (int i = 0; i < done.length; i++) {
            completion += done[i].completionTokens();
            if (choices.get(i).leadsItsPrompt()) {
                prompt += done[i].promptTokens();
                cached += done[i].cachedTokens();
            }
        }
        return new Generation.Done(done[0].finishReason(), prompt, completion, cached);
    }

    /** One {@code data: ...} event; Helidon writes {@code data:} and the SSE spec drops one leading space, as OpenAI sends it. */
    private static void emit(SseSink sink, String data) {
        sink.emit(SseEvent.builder().data(" " + data).build());
    }

    /**
     * The next event of any of the request's choices; fails the request if the scheduler produced nothing for
     * {@link #STALL_LIMIT_NANOS}.
     */
    private static Generation.Choice next(List<Generation> choices) {
        long deadline = System.nanoTime() + STALL_LIMIT_NANOS;
        try {
            while (System.nanoTime() < deadline) {
                Generation.Choice c = choices.get(0).next(200, TimeUnit.MILLISECONDS);
                if (c != null) {
                    return c;
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        return new Generation.Choice(0, new Generation.Failed(
                ApiException.internal("no token was generated for 10 minutes; the request was dropped")));
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
