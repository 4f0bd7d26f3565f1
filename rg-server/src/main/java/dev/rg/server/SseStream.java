package dev.rg.server;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Server-sent events written to the response as they come, each flushed. Written here rather than through Helidon's
 * SSE sink because that sink is refused unless the request's {@code Accept} header names {@code text/event-stream},
 * and OpenAI's Python client streams with {@code Accept: application/json}. Event data are single-line JSON (or
 * {@code [DONE]}), so each is one {@code data:} line.
 */
final class SseStream implements AutoCloseable {
    private final OutputStream out;

    SseStream(ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        this.out = res.outputStream();
    }

    /** An unnamed event: {@code data: DATA}. */
    void data(String data) {
        write("data: " + data + "\n\n");
    }

    /** A named event: {@code event: NAME} and {@code data: DATA}. */
    void event(String name, String data) {
        write("event: " + name + "\ndata: " + data + "\n\n");
    }

    /** @throws UncheckedIOException when the client has gone away */
    private void write(String text) {
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
