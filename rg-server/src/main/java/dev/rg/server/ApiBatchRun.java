package dev.rg.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs one {@link ApiBatch} on a server's scheduler: validates the whole input first (as OpenAI does: a file that is not
 * a batch of requests to the batch's endpoint fails before anything runs), then feeds its requests through
 * {@link OpenAiBatch} into the slots the server's clients leave free, at most {@code maxSequences} sequences at a time,
 * and writes each answer as it comes: status 200 to the output file, anything else to the error file (OpenAI's batch
 * output lines; in the order the requests finish, so match them by {@code custom_id}).
 */
final class ApiBatchRun {
    /** OpenAI's limit on the requests of one batch. */
    static final int MAX_REQUESTS = 50_000;
    /** Input errors reported before validation stops looking. */
    static final int MAX_ERRORS = 100;
    /** How often a batch with nothing running looks again for a free slot. */
    private static final long ROOM_POLL_MILLIS = 50;

    private final ApiBatch batch;
    private final FileStore files;
    private final Engine engine;
    private final ServerOptions options;
    private final int maxSequences;
    private final LongSupplier clock;
    private final Runnable changed;
    private final java.util.function.Consumer<Boolean> answeredHook;
    private final ObjectMapper json = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /**
     * @param clock   the time in seconds (the batch expires at {@link ApiBatch#expiresAt})
     * @param changed  told whenever the batch's status changes, to keep it
     * @param answered told of each request answered: whether with status 200
     */
    ApiBatchRun(ApiBatch batch, FileStore files, Engine engine, ServerOptions options, int maxSequences, LongSupplier clock,
            Runnable changed, java.util.function.Consumer<Boolean> answered) {
        this.answeredHook = answered;
        this.batch = batch;
        this.files = files;
        this.engine = engine;
        this.options = options;
        this.maxSequences = maxSequences;
        this.clock = clock;
        this.changed = changed;
    }

    /** Validates and runs the batch to its end (or until the thread is interrupted: the server stops). */
    void run() throws IOException, InterruptedException {
        if (batch.cancelling()) {
            stoppedBeforeStart();
            return;
        }
        Path input;
        try {
            input = files.content(batch.inputFileId);
        } catch (ApiException e) {
            fail(List.of(new ApiBatch.InputError("input_file_missing", "the input file " + batch.inputFileId
                    + " was deleted before the batch started", null)));
            return;
        }
        long total = validate(input);
        if (total < 0) {
            return;
        }
        if (batch.cancelling()) {
            stoppedBeforeStart();
            return;
        }
        batch.started(total, clock.getAsLong());
        changed.run();
        execute(input);
    }

    /** The number of requests, or -1 when the input is not a valid batch (the batch has failed). */
    private long validate(Path input) throws IOException {
        List<ApiBatch.InputError> errors = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        long requests = 0;
        try (BatchInputLines lines = new BatchInputLines(input, options.maxBodyBytes())) {
            for (BatchInputLines.Line line; (line = lines.next()) != null && errors.size() < MAX_ERRORS; ) {
                ApiBatch.InputError problem = problem(line, ids);
                if (problem != null) {
                    errors.add(problem);
                } else if (++requests > MAX_REQUESTS) {
                    errors.add(new ApiBatch.InputError("too_many_requests", "a batch holds at most " + MAX_REQUESTS
                            + " requests; split the file", line.number()));
                }
            }
        } catch (CharacterCodingException e) {
            errors.add(new ApiBatch.InputError("invalid_file", "the input file is not UTF-8 text", null));
        }
        if (errors.isEmpty() && requests == 0) {
            errors.add(new ApiBatch.InputError("empty_file", "the input file has no requests", null));
        }
        if (!errors.isEmpty()) {
            fail(errors);
            return -1;
        }
        return requests;
    }

    /** Why {@code line} is not a request to this batch's endpoint, or null when it is one. */
    private ApiBatch.InputError problem(BatchInputLines.Line line, Set<String> ids) {
        if (line.tooLong()) {
            return error(line, "line_too_long", "the line is longer than a request body may be (" + options.maxBodyBytes()
                    + " bytes, --max-body-mb)");
        }
        JsonNode o;
        try {
            o = json.readTree(line.text());
        } catch (JsonProcessingException e) {
            return error(line, "invalid_json", "the line is not JSON: " + dev.rg.core.io.OneLine.of(e.getOriginalMessage()));
        }
        if (!o.isObject()) {
            return error(line, "invalid_json", "the line is not a JSON object");
        }
        JsonNode id = o.get("custom_id");
        if (id == null || !id.isTextual() || id.textValue().isEmpty()) {
            return error(line, "missing_custom_id", "the request has no \"custom_id\" (a non-empty string)");
        }
        if (!ids.add(id.textValue())) {
            return error(line, "duplicate_custom_id", "the custom_id '" + id.textValue() + "' is used by an earlier line");
        }
        JsonNode method = o.get("method");
        if (method == null || !method.isTextual() || !method.textValue().equals("POST")) {
            return error(line, "invalid_method", "\"method\" must be \"POST\"");
        }
        JsonNode url = o.get("url");
        if (url == null || !url.isTextual() || !url.textValue().equals(batch.endpoint)) {
            return error(line, "mismatched_endpoint", "\"url\" must be the batch's endpoint, \"" + batch.endpoint + "\", got "
                    + (url == null ? "nothing" : url));
        }
        JsonNode body = o.get("body");
        if (body == null || !body.isObject()) {
            return error(line, "invalid_body", "\"body\" must be a JSON object (the request's body)");
        }
        return null;
    }

    private static ApiBatch.InputError error(BatchInputLines.Line line, String code, String message) {
        return new ApiBatch.InputError(code, message, line.number());
    }

    /** A request that finished on the scheduler, with the sequences it held. */
    private record Finished(int sequences, OpenAiBatch.Result result) {}

    private void execute(Path input) throws IOException, InterruptedException {
        Path output = files.scratch("batch-output");
        Path errors = files.scratch("batch-errors");
        boolean expired = false;
        boolean written = false;
        try (OpenAiBatch requests = OpenAiBatch.onServer(engine, options, seed(batch.id));
                BatchInputLines lines = new BatchInputLines(input, options.maxBodyBytes());
                BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.UTF_8);
                BufferedWriter err = Files.newBufferedWriter(errors, StandardCharsets.UTF_8)) {
            BlockingQueue<Finished> finished = new LinkedBlockingQueue<>();
            OpenAiBatch.Request next = null; // read, not yet queued: it waits for a free slot
            int running = 0;
            boolean exhausted = false;
            while (true) {
                expired = clock.getAsLong() >= batch.expiresAt();
                boolean stopping = expired || batch.cancelling();
                while (!stopping) {
                    if (next == null) {
                        BatchInputLines.Line line = lines.next();
                        if (line == null) {
                            exhausted = true;
                            break;
                        }
                        next = line.tooLong() ? null : requests.parse(line.number(), line.text());
                        OpenAiBatch.Result answer = next == null ? requests.unreadable(line.number(), "line " + line.number()
                                + " is longer than a request body may be") : next.result();
                        if (answer != null) {
                            write(answer, out, err);
                            next = null;
                            continue;
                        }
                    }
                    int size = next.sequences();
                    if (running > 0 && running + size > maxSequences) {
                        break;
                    }
                    if (!requests.submit(next, r -> finished.add(new Finished(size, r)))) {
                        break; // the clients' requests hold the slots: look again when one of ours finishes, or soon
                    }
                    running += size;
                    next = null;
                }
                if (running == 0 && (exhausted || stopping)) {
                    break;
                }
                Finished f = finished.poll(ROOM_POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (f != null) {
                    running -= f.sequences();
                    write(f.result(), out, err);
                }
            }
            if (expired && !batch.cancelling()) {
                expireRest(next, lines, err);
            }
            written = true;
        } finally {
            if (!written) {
                Files.deleteIfExists(output);
                Files.deleteIfExists(errors);
            }
        }
        batch.finalizing(clock.getAsLong());
        changed.run();
        String outputId = keep(output, "output");
        String errorId = keep(errors, "error");
        batch.ended(outputId, errorId, expired, clock.getAsLong());
        changed.run();
    }

    private void write(OpenAiBatch.Result r, BufferedWriter out, BufferedWriter err) throws IOException {
        BufferedWriter to = r.failed() ? err : out;
        to.write(r.line());
        to.write('\n');
        batch.answered(!r.failed(), r.promptTokens(), r.cachedTokens(), r.completionTokens());
        answeredHook.accept(!r.failed());
    }

    /** Every request not started when the window passed gets OpenAI's {@code batch_expired} line in the error file. */
    private void expireRest(OpenAiBatch.Request next, BatchInputLines lines, BufferedWriter err) throws IOException {
        if (next != null) {
            write(expired(next.line(), next.customId()), err, err);
        }
        for (BatchInputLines.Line line; (line = lines.next()) != null; ) {
            // the input was validated: every line is a request with a custom_id
            String customId = line.tooLong() ? null : json.readTree(line.text()).path("custom_id").asText(null);
            write(expired(line.number(), customId), err, err);
        }
    }

    private OpenAiBatch.Result expired(long line, String customId) throws JsonProcessingException {
        com.fasterxml.jackson.databind.node.ObjectNode o = json.createObjectNode();
        o.put("id", "batch_req_" + line);
        o.put("custom_id", customId);
        o.putNull("response");
        o.putObject("error").put("code", "batch_expired")
                .put("message", "This request could not be executed before the completion window expired.");
        return new OpenAiBatch.Result(json.writeValueAsString(o), true, 0, 0, 0);
    }

    /** Makes a written file one of the store's, or removes it when it is empty; its id or null. */
    private String keep(Path written, String kind) throws IOException {
        if (Files.size(written) == 0) {
            Files.delete(written);
            return null;
        }
        return files.adopt(written, batch.id + "_" + kind + ".jsonl", "batch_output").id();
    }

    /** Cancelled before any of its requests started: it ends with no files. */
    private void stoppedBeforeStart() {
        batch.ended(null, null, false, clock.getAsLong());
        changed.run();
    }

    private void fail(List<ApiBatch.InputError> errors) {
        batch.failed(errors, clock.getAsLong());
        changed.run();
    }

    /** The seed mixed with a request's custom_id when it samples without one: the same batch samples the same. */
    private static long seed(String batchId) {
        return batchId.hashCode() * 0x9E3779B97F4A7C15L;
    }
}
