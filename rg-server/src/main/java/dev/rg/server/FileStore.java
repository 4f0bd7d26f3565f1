package dev.rg.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The files of OpenAI's Files API ({@code /v1/files}), kept in one directory: a file's bytes as {@code ID} and what
 * the API says of it as {@code ID.json}, both written under a temporary name and renamed, so a file is listed only
 * once it is whole. The files' bytes together stay within a bound given at start; an upload that would pass it is
 * refused with 413 before or while it is read. The directory's files are listed again at start, so a directory given
 * with {@code --files-dir} keeps them across restarts.
 */
final class FileStore implements AutoCloseable {
    /** What the API says of a stored file (OpenAI's {@code FileObject}). */
    record StoredFile(String id, long bytes, long createdAt, String filename, String purpose) {}

    private static final String PARTIAL = ".partial";
    /** Most files kept at once by default (their metadata stays in memory): a bound on entries, as the bytes have theirs. */
    static final int MAX_FILES = 10_000;

    private final Path dir;
    private final boolean temporary;
    private final long limit;
    private final int maxFiles;
    private final ObjectMapper json;
    private final Map<String, StoredFile> files = new ConcurrentHashMap<>();
    /** Bytes of the stored files and of the uploads being written (reserved as they arrive). */
    private long used;

    /**
     * @param dir   where the files are kept; null for a new temporary directory removed by {@link #close}
     * @param limit    most bytes of all files together
     * @param maxFiles most files at once
     */
    FileStore(Path dir, long limit, int maxFiles, ObjectMapper json) {
        this.json = json;
        this.limit = limit;
        this.maxFiles = maxFiles;
        try {
            this.temporary = dir == null;
            this.dir = dir == null ? Files.createTempDirectory("rg-files") : Files.createDirectories(dir);
            load();
        } catch (IOException e) {
            throw new RgServer.FilesUnreadable("--files-dir " + (dir == null ? "(temporary)" : dir) + ": "
                    + dev.rg.core.io.OneLine.of(String.valueOf(e.getMessage())), e);
        }
    }

    /** Where the files are kept. */
    Path dir() {
        return dir;
    }

    /** An upload's bytes, written under a temporary name and counted toward the bound, not yet a stored file. */
    record Received(Path partial, String filename, long bytes) {}

    /**
     * Writes the bytes of {@code in} under a temporary name; {@link #commit} makes them a file, {@link #discard} drops
     * them.
     *
     * @throws ApiException 413 when the bytes would pass the store's bound (what was written is removed)
     */
    Received receive(String filename, InputStream in) throws IOException {
        if (files.size() >= maxFiles) {
            throw ApiException.tooLarge("file", "the server keeps at most " + maxFiles + " files and has " + files.size()
                    + "; delete files with DELETE /v1/files/{file_id}");
        }
        Path partial = scratch("upload");
        long reserved = 0;
        boolean whole = false;
        try {
            try (OutputStream out = Files.newOutputStream(partial)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    reserve(n, filename);
                    reserved += n;
                    out.write(buffer, 0, n);
                }
            }
            whole = true;
            return new Received(partial, filename, reserved);
        } finally {
            if (!whole) {
                release(reserved);
                Files.deleteIfExists(partial);
            }
        }
    }

    /** Makes a received upload a stored file of {@code purpose}. */
    StoredFile commit(Received r, String purpose) throws IOException {
        String id = RandomIds.of("file-");
        StoredFile f = new StoredFile(id, r.bytes(), System.currentTimeMillis() / 1000, r.filename(), purpose);
        try {
            writeMetadata(f);
            AtomicFiles.move(r.partial(), dir.resolve(id));
        } catch (IOException e) {
            Files.deleteIfExists(dir.resolve(id + ".json"));
            discard(r);
            throw e;
        }
        files.put(id, f);
        return f;
    }

    /** Drops a received upload that will not be stored. */
    void discard(Received r) throws IOException {
        if (Files.deleteIfExists(r.partial())) {
            release(r.bytes());
        }
    }

    /**
     * Takes {@code written}, a file the server wrote in the store's directory (a batch's output), as a new stored file.
     * Its bytes count toward the bound but are never refused: they are the answer to work already done.
     */
    StoredFile adopt(Path written, String filename, String purpose) throws IOException {
        String id = RandomIds.of("file-");
        long bytes = Files.size(written);
        StoredFile f = new StoredFile(id, bytes, System.currentTimeMillis() / 1000, filename, purpose);
        writeMetadata(f);
        AtomicFiles.move(written, dir.resolve(id));
        synchronized (this) {
            used += bytes;
        }
        files.put(id, f);
        return f;
    }

    /** A new name for a file the server writes in the store's directory before {@link #adopt}ing it. */
    Path scratch(String prefix) {
        return dir.resolve(RandomIds.of(prefix + "-") + PARTIAL);
    }

    /** The file {@code id}, or 404. */
    StoredFile get(String id) {
        StoredFile f = files.get(id);
        if (f == null) {
            throw ApiException.notFound("file_id", "file_not_found", "No such file: '" + id + "'");
        }
        return f;
    }

    /** Where the bytes of file {@code id} are (404 when there is no such file). */
    Path content(String id) {
        return dir.resolve(get(id).id());
    }

    /** The files, newest first (or oldest first with {@code ascending}), of {@code purpose} when it is not null. */
    List<StoredFile> list(String purpose, boolean ascending) {
        List<StoredFile> out = new ArrayList<>();
        for (StoredFile f : files.values()) {
            if (purpose == null || purpose.equals(f.purpose())) {
                out.add(f);
            }
        }
        Comparator<StoredFile> order = Comparator.comparingLong(StoredFile::createdAt).thenComparing(StoredFile::id);
        out.sort(ascending ? order : order.reversed());
        return out;
    }

    /** Removes file {@code id} (404 when there is none). */
    void delete(String id) throws IOException {
        StoredFile f = get(id);
        if (files.remove(id, f)) {
            Files.deleteIfExists(dir.resolve(id + ".json"));
            Files.deleteIfExists(dir.resolve(id));
            release(f.bytes());
        }
    }

    /** Bytes that may still be stored. */
    synchronized long free() {
        return limit - used;
    }

    /** The API's body for {@code f}. */
    ObjectNode body(StoredFile f) {
        ObjectNode o = json.createObjectNode();
        o.put("id", f.id());
        o.put("object", "file");
        o.put("bytes", f.bytes());
        o.put("created_at", f.createdAt());
        o.put("filename", f.filename());
        o.put("purpose", f.purpose());
        o.put("status", "processed"); // deprecated by OpenAI but still sent, and clients read it
        o.putNull("status_details");
        return o;
    }

    /** Removes the directory when it was a temporary one. */
    @Override
    public void close() {
        if (temporary) {
            AtomicFiles.deleteTree(dir); // best effort: its batches directory too
        }
    }

    private synchronized void reserve(long n, String filename) {
        if (used + n > limit) {
            throw ApiException.tooLarge("file", "'" + filename + "' does not fit: the server keeps at most " + (limit >> 20)
                    + " MB of files (--files-mb) and " + ((limit - used) >> 20) + " MB are free; delete files with"
                    + " DELETE /v1/files/{file_id}");
        }
        used += n;
    }

    private synchronized void release(long n) {
        used -= n;
    }

    private void writeMetadata(StoredFile f) throws IOException {
        byte[] body = json.writeValueAsBytes(body(f));
        try {
            AtomicFiles.write(dir.resolve(f.id() + ".json"), p -> Files.write(p, body));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Lists the directory's whole files (those with both their bytes and their metadata); partial ones are removed. */
    private void load() throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.json")) {
            for (Path meta : entries) {
                JsonNode o;
                try {
                    o = json.readTree(meta.toFile());
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IOException(meta + " is not a file's metadata (not JSON: " + dev.rg.core.io.OneLine.of(e.getOriginalMessage()) + ")", e);
                }
                String id = o.path("id").asText("");
                Path bytes = dir.resolve(id);
                if (!id.startsWith("file-") || !meta.getFileName().toString().equals(id + ".json") || !Files.isRegularFile(bytes)) {
                    continue; // not one of ours, or its bytes are gone
                }
                StoredFile f = new StoredFile(id, Files.size(bytes), o.path("created_at").asLong(),
                        o.path("filename").asText(id), o.path("purpose").asText("batch"));
                files.put(id, f);
                used += f.bytes();
            }
        }
        try (DirectoryStream<Path> partials = Files.newDirectoryStream(dir, "*" + PARTIAL)) {
            for (Path p : partials) {
                Files.deleteIfExists(p); // an upload the last run did not finish
            }
        }
    }

}
