package dev.rg.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.core.io.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.LongSupplier;

/**
 * The batches of {@code /v1/batches}: created from a stored input file, run one after another by one thread in the
 * order they were created (each in the slots the server's clients leave free, see {@link ApiBatchRun}), and kept as
 * JSON in the file store's {@code batches} directory at every change of status, so that with {@code --files-dir} a
 * restart lists them again and runs those that had not ended from their start.
 */
final class ApiBatches implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ApiBatches.class.getName());
    static final List<String> ENDPOINTS = OpenAiBatch.URLS;
    /** Most batches listed (and kept) at once by default: beyond, the oldest ended ones are forgotten. */
    static final int MAX_BATCHES = 10_000;

    private final FileStore files;
    private final ObjectMapper json;
    private final ServerOptions options;
    private final CompletableFuture<Engine> engine;
    private final LongSupplier clock;
    private final Path dir;
    private final ServerMetrics metrics;
    private final int maxBatches;
    private final Map<String, ApiBatch> batches = new ConcurrentHashMap<>();
    private final BlockingQueue<ApiBatch> queue = new LinkedBlockingQueue<>();
    private final Thread runner;

    /**
     * @param engine completes once the model is loaded; batches wait for it
     * @param clock  the time in seconds
     * @param metrics counts the batches by status and their requests by result
     * @param maxBatches most batches listed at once
     */
    ApiBatches(FileStore files, ObjectMapper json, ServerOptions options, CompletableFuture<Engine> engine, LongSupplier clock,
            ServerMetrics metrics, int maxBatches) {
        this.metrics = metrics;
        this.maxBatches = maxBatches;
        this.files = files;
        this.json = json;
        this.options = options;
        this.engine = engine;
        this.clock = clock;
        this.dir = files.dir().resolve("batches");
        try {
            Files.createDirectories(dir);
            load();
        } catch (IOException e) {
            throw new RgServer.FilesUnreadable("--files-dir: cannot keep batches in " + dir + ": "
                    + dev.rg.core.io.OneLine.of(String.valueOf(e.getMessage())), e);
        }
        this.runner = Thread.ofPlatform().name("rg-batches").daemon().unstarted(this::runAll);
        runner.start();
    }

    /** Creates a batch from a {@code POST /v1/batches} body; 400 for a parameter OpenAI's API would refuse. */
    ApiBatch create(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest(null, "the body must be a JSON object");
        }
        String inputFileId = requiredText(body, "input_file_id");
        FileStore.StoredFile input;
        try {
            input = files.get(inputFileId);
        } catch (ApiException e) {
            throw ApiException.badRequest("input_file_id", "No such file: '" + inputFileId + "' (upload it with POST /v1/files)");
        }
        if (!input.purpose().equals("batch")) {
            throw ApiException.badRequest("input_file_id", "the file '" + inputFileId + "' has purpose '" + input.purpose()
                    + "'; a batch's input is uploaded with purpose 'batch'");
        }
        String endpoint = requiredText(body, "endpoint");
        if (!ENDPOINTS.contains(endpoint)) {
            throw ApiException.badRequest("endpoint", "this server runs batches of " + String.join(" or ", ENDPOINTS)
                    + ", not '" + endpoint + "'");
        }
        String window = requiredText(body, "completion_window");
        if (!window.equals("24h")) {
            throw ApiException.badRequest("completion_window", "completion_window must be '24h', got '" + window + "'");
        }
        ApiBatch b = new ApiBatch(RandomIds.of("batch_"), endpoint, inputFileId, clock.getAsLong(),
                metadata(body.get("metadata")));
        synchronized (this) {
            forgetOldest();
            batches.put(b.id, b);
        }
        save(b);
        queue.add(b);
        return b;
    }

    /** Batch {@code id}, or 404. */
    ApiBatch get(String id) {
        ApiBatch b = batches.get(id);
        if (b == null) {
            throw ApiException.notFound("batch_id", "batch_not_found", "No such batch: '" + id + "'");
        }
        return b;
    }

    /** The batches, newest first. */
    List<ApiBatch> list() {
        List<ApiBatch> out = new ArrayList<>(batches.values());
        out.sort(Comparator.comparingLong((ApiBatch b) -> b.createdAt).thenComparing(b -> b.id).reversed());
        return out;
    }

    /** Asks batch {@code id} to stop (404 when there is none, 409 when it has ended). */
    ApiBatch cancel(String id) {
        ApiBatch b = get(id);
        if (!b.cancel(clock.getAsLong())) {
            throw new ApiException(409, "invalid_request_error", null, "batch_not_cancellable",
                    "Cannot cancel a batch with status '" + b.status() + "'");
        }
        save(b);
        return b;
    }

    /** Stops the runner; a running batch stays in progress in its kept JSON and runs again after a restart. */
    @Override
    public void close() {
        runner.interrupt();
        try {
            runner.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void runAll() {
        Engine e;
        try {
            e = engine.get();
        } catch (InterruptedException ie) {
            return;
        } catch (ExecutionException ee) {
            for (ApiBatch b : queue) {
                b.failed(List.of(new ApiBatch.InputError("model_failed", "the server's model failed to load", null)), clock.getAsLong());
                save(b);
            }
            return;
        }
        while (!Thread.currentThread().isInterrupted()) {
            ApiBatch b;
            try {
                b = queue.take();
            } catch (InterruptedException ie) {
                return;
            }
            if (b.ended()) {
                continue;
            }
            int sequences = Math.max(1, options.batchSequences() > 0 ? options.batchSequences() : options.maxSequences() / 2);
            try {
                new ApiBatchRun(b, files, e, options, sequences, clock, () -> save(b), metrics::batchRequest).run();
            } catch (InterruptedException ie) {
                return; // the server stops: the batch runs again at the next start
            } catch (IOException | RuntimeException err) {
                LOG.log(System.Logger.Level.WARNING, "batch " + b.id + " failed", err);
                b.failed(List.of(new ApiBatch.InputError("server_error", "the batch stopped: "
                        + dev.rg.core.io.OneLine.of(String.valueOf(err.getMessage())), null)), clock.getAsLong());
                save(b);
            }
        }
    }

    private void save(ApiBatch b) {
        publishCounts();
        try {
            AtomicFiles.writeString(dir.resolve(b.id + ".json"), json.writeValueAsString(b.body(json, options.modelId())));
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot keep batch " + b.id + " in " + dir + ": " + e.getMessage());
        }
    }

    private void load() throws IOException {
        List<ApiBatch> unfinished = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "batch_*.json")) {
            for (Path p : entries) {
                ApiBatch b;
                try {
                    b = ApiBatch.restored(json.readTree(p.toFile()));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IOException(p + " is not a batch this server kept (not JSON: "
                            + dev.rg.core.io.OneLine.of(e.getOriginalMessage()) + ")", e);
                }
                if (!p.getFileName().toString().equals(b.id + ".json") || !ENDPOINTS.contains(b.endpoint)) {
                    throw new IOException(p + " is not a batch this server kept (its id or endpoint does not match)");
                }
                batches.put(b.id, b);
                if (!b.ended()) {
                    unfinished.add(b);
                }
            }
        }
        unfinished.sort(Comparator.comparingLong(b -> b.createdAt));
        queue.addAll(unfinished);
        publishCounts();
    }

    /**
     * Keeps the batches listed within {@code maxBatches}: the oldest ended ones are forgotten (their kept JSON too;
     * their files stay). 429 when that many have not ended.
     */
    private synchronized void forgetOldest() {
        if (batches.size() < maxBatches) {
            return;
        }
        List<ApiBatch> ended = new ArrayList<>();
        for (ApiBatch b : batches.values()) {
            if (b.ended()) {
                ended.add(b);
            }
        }
        if (ended.isEmpty()) {
            throw ApiException.queueFull(maxBatches + " batches are waiting or running; create more once some have ended");
        }
        ended.sort(Comparator.comparingLong((ApiBatch b) -> b.createdAt).thenComparing(b -> b.id));
        for (int i = 0; i < Math.max(1, batches.size() - maxBatches + 1) && i < ended.size(); i++) {
            batches.remove(ended.get(i).id);
            try {
                Files.deleteIfExists(dir.resolve(ended.get(i).id + ".json"));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot remove " + dir.resolve(ended.get(i).id + ".json") + ": " + e.getMessage());
            }
        }
    }

    /** The number of batches of each status, to /metrics. */
    private void publishCounts() {
        Map<String, Integer> byStatus = new java.util.HashMap<>();
        for (ApiBatch each : batches.values()) {
            byStatus.merge(each.status(), 1, Integer::sum);
        }
        metrics.batches(byStatus);
    }

    private static String requiredText(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
            throw ApiException.badRequest(field, "'" + field + "' is required (a string)");
        }
        return v.textValue();
    }

    /** OpenAI's metadata: at most 16 string pairs, keys up to 64 characters and values up to 512. */
    private static Map<String, String> metadata(JsonNode m) {
        Map<String, String> out = new LinkedHashMap<>();
        if (m == null || m.isNull()) {
            return out;
        }
        if (!m.isObject() || m.size() > 16) {
            throw ApiException.badRequest("metadata", "metadata must be an object of at most 16 string values");
        }
        for (var it = m.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().length() > 64 || !e.getValue().isTextual() || e.getValue().textValue().length() > 512) {
                throw ApiException.badRequest("metadata", "metadata keys are at most 64 characters and values strings of at"
                        + " most 512; '" + e.getKey() + "' is not");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }
}
