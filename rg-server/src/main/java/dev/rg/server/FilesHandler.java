package dev.rg.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;

/**
 * OpenAI's Files API, as far as its Batch API needs it: {@code POST /v1/files} (a multipart upload with {@code purpose}
 * "batch"), {@code GET /v1/files[?purpose&limit&order&after]}, {@code GET /v1/files/{id}}, {@code GET
 * /v1/files/{id}/content} and {@code DELETE /v1/files/{id}}.
 */
final class FilesHandler {
    private final RgServer server;
    private final FileStore store;

    FilesHandler(RgServer server, FileStore store) {
        this.server = server;
        this.store = store;
    }

    void upload(ServerRequest req, ServerResponse res) {
        var length = req.headers().contentLength();
        if (length.isPresent() && length.getAsLong() > store.free() + 64 * 1024) {
            throw ApiException.tooLarge("file", "the upload has " + length.getAsLong() + " bytes and the server has room for "
                    + store.free() + " more (--files-mb); delete files with DELETE /v1/files/{file_id}");
        }
        String contentType = req.headers().first(HeaderNames.CONTENT_TYPE).orElse(null);
        FileStore.Received[] received = new FileStore.Received[1];
        try {
            Map<String, String> fields;
            try (InputStream in = req.content().inputStream()) {
                fields = MultipartUpload.read(contentType, in, "file", (name, content) -> received[0] = store.receive(name, content));
            }
            String purpose = fields.get("purpose");
            if (purpose == null || purpose.isEmpty()) {
                throw ApiException.badRequest("purpose", "'purpose' is required (a form field: \"batch\")");
            }
            if (!purpose.equals("batch")) {
                throw ApiException.badRequest("purpose", "this server keeps files for the Batch API only: 'purpose' must be"
                        + " \"batch\", got \"" + purpose + "\"");
            }
            FileStore.StoredFile f = store.commit(received[0], purpose);
            received[0] = null;
            server.metrics().request("files", 200);
            server.sendJson(res, 200, store.body(f));
        } catch (IOException e) {
            throw ApiException.badRequest("file", "the upload could not be read: " + dev.rg.core.io.OneLine.of(String.valueOf(e.getMessage())));
        } finally {
            if (received[0] != null) {
                try {
                    store.discard(received[0]);
                } catch (IOException e) {
                    // a partial upload left behind is removed at the next start
                }
            }
        }
    }

    void list(ServerRequest req, ServerResponse res) {
        var query = req.query();
        String purpose = query.first("purpose").orElse(null);
        String order = query.first("order").orElse("desc");
        if (!order.equals("asc") && !order.equals("desc")) {
            throw ApiException.badRequest("order", "'order' must be \"asc\" or \"desc\", got \"" + order + "\"");
        }
        int limit = ListPages.limit(query.first("limit").orElse(null), 10_000, 10_000);
        List<FileStore.StoredFile> all = store.list(purpose, order.equals("asc"));
        List<FileStore.StoredFile> page = ListPages.after(all, FileStore.StoredFile::id, query.first("after").orElse(null), limit);
        ArrayNode data = server.mapper().createArrayNode();
        page.forEach(f -> data.add(store.body(f)));
        server.metrics().request("files", 200);
        server.sendJson(res, 200, ListPages.body(server.mapper(), data, page, FileStore.StoredFile::id, all));
    }

    void get(ServerRequest req, ServerResponse res) {
        FileStore.StoredFile f = store.get(req.path().pathParameters().get("id"));
        server.metrics().request("files", 200);
        server.sendJson(res, 200, store.body(f));
    }

    void content(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        FileStore.StoredFile f = store.get(id);
        InputStream in;
        try {
            in = Files.newInputStream(store.content(id));
        } catch (NoSuchFileException e) {
            throw ApiException.notFound("file_id", "file_not_found", "No such file: '" + id + "'"); // deleted meanwhile
        } catch (IOException e) {
            throw ApiException.internal("cannot read file " + id + ": " + e.getMessage());
        }
        server.metrics().request("files", 200);
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
        res.header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"" + f.filename().replace("\"", "") + "\"");
        res.contentLength(f.bytes());
        try (in; OutputStream out = res.outputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the client went away
        }
    }

    void delete(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        try {
            store.delete(id);
        } catch (IOException e) {
            throw ApiException.internal("cannot delete file " + id + ": " + e.getMessage());
        }
        ObjectNode body = server.mapper().createObjectNode().put("id", id).put("object", "file").put("deleted", true);
        server.metrics().request("files", 200);
        server.sendJson(res, 200, body);
    }
}
