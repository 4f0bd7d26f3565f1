package dev.rg.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One batch of OpenAI's Batch API ({@code /v1/batches}) and its progress: its status moves {@code validating ->
 * in_progress -> finalizing -> completed}, or ends {@code failed} (the input is not a valid batch), {@code cancelled}
 * (after {@code cancelling}) or {@code expired} (its 24-hour window passed). Read and written under its own lock:
 * the runner advances it while requests read it.
 */
final class ApiBatch {
    /** A problem with the input as a whole, found while validating (OpenAI's {@code errors.data[]}). */
    record InputError(String code, String message, Long line) {}

    static final long WINDOW_SECONDS = 24 * 3600;

    final String id;
    final String endpoint;
    final String inputFileId;
    final long createdAt;
    final Map<String, String> metadata;

    private String status = "validating";
    private final List<InputError> errors = new ArrayList<>();
    private String outputFileId;
    private String errorFileId;
    private Long inProgressAt;
    private Long finalizingAt;
    private Long completedAt;
    private Long failedAt;
    private Long expiredAt;
    private Long cancellingAt;
    private Long cancelledAt;
    private long total;
    private long completed;
    private long failed;
    private long inputTokens;
    private long cachedTokens;
    private long outputTokens;

    ApiBatch(String id, String endpoint, String inputFileId, long createdAt, Map<String, String> metadata) {
        this.id = id;
        this.endpoint = endpoint;
        this.inputFileId = inputFileId;
        this.createdAt = createdAt;
        this.metadata = Map.copyOf(metadata);
    }

    long expiresAt() {
        return createdAt + WINDOW_SECONDS;
    }

    synchronized String status() {
        return status;
    }

    synchronized boolean ended() {
        return switch (status) {
            case "completed", "failed", "cancelled", "expired" -> true;
            default -> false;
        };
    }

    /** Validation passed: its requests start. */
    synchronized void started(long total, long now) {
        if (status.equals("validating")) {
            status = "in_progress";
        }
        this.total = total;
        inProgressAt = now;
    }

    /** The input is not a valid batch; nothing runs. */
    synchronized void failed(List<InputError> found, long now) {
        errors.addAll(found);
        status = "failed";
        failedAt = now;
    }

    /** A request answered: with a response of status 200, or an error. */
    synchronized void answered(boolean ok, long promptTokens, long cached, long completionTokens) {
        if (ok) {
            completed++;
        } else {
            failed++;
        }
        inputTokens += promptTokens;
        cachedTokens += cached;
        outputTokens += completionTokens;
    }

    /**
     * Asks it to stop: true when it was running (it becomes {@code cancelling}; the runner ends it {@code cancelled}),
     * false when it had already ended.
     */
    synchronized boolean cancel(long now) {
        if (ended()) {
            return false;
        }
        if (!status.equals("cancelling")) {
            status = "cancelling";
            cancellingAt = now;
        }
        return true;
    }

    synchronized boolean cancelling() {
        return status.equals("cancelling");
    }

    synchronized void finalizing(long now) {
        if (status.equals("in_progress")) {
            status = "finalizing";
        }
        finalizingAt = now;
    }

    /** Its files are written: it ends {@code completed}, {@code cancelled} or {@code expired}. */
    synchronized void ended(String outputFile, String errorFile, boolean expired, long now) {
        outputFileId = outputFile;
        errorFileId = errorFile;
        if (status.equals("cancelling")) {
            status = "cancelled";
            cancelledAt = now;
        } else if (expired) {
            status = "expired";
            expiredAt = now;
        } else {
            status = "completed";
            completedAt = now;
        }
    }

    /** The API's body (OpenAI's {@code Batch} object). */
    synchronized ObjectNode body(ObjectMapper json, String model) {
        ObjectNode o = json.createObjectNode();
        o.put("id", id);
        o.put("object", "batch");
        o.put("endpoint", endpoint);
        o.put("model", model);
        if (errors.isEmpty()) {
            o.putNull("errors");
        } else {
            ObjectNode list = o.putObject("errors");
            list.put("object", "list");
            ArrayNode data = list.putArray("data");
            for (InputError e : errors) {
                ObjectNode d = data.addObject().put("code", e.code()).put("message", e.message()).putNull("param");
                if (e.line() == null) {
                    d.putNull("line");
                } else {
                    d.put("line", e.line());
                }
            }
        }
        o.put("input_file_id", inputFileId);
        o.put("completion_window", "24h");
        o.put("status", status);
        o.put("output_file_id", outputFileId);
        o.put("error_file_id", errorFileId);
        o.put("created_at", createdAt);
        o.put("in_progress_at", inProgressAt);
        o.put("expires_at", expiresAt());
        o.put("finalizing_at", finalizingAt);
        o.put("completed_at", completedAt);
        o.put("failed_at", failedAt);
        o.put("expired_at", expiredAt);
        o.put("cancelling_at", cancellingAt);
        o.put("cancelled_at", cancelledAt);
        o.putObject("request_counts").put("total", total).put("completed", completed).put("failed", failed);
        ObjectNode usage = o.putObject("usage");
        usage.put("input_tokens", inputTokens);
        usage.putObject("input_tokens_details").put("cached_tokens", cachedTokens);
        usage.put("output_tokens", outputTokens);
        usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
        usage.put("total_tokens", inputTokens + outputTokens);
        ObjectNode meta = o.putObject("metadata");
        metadata.forEach(meta::put);
        return o;
    }

    /**
     * A batch read back from the body {@link #body} wrote (kept beside the files). One that had not ended runs again
     * from its start: {@code validating}, with no counts.
     */
    static ApiBatch restored(JsonNode o) {
        java.util.LinkedHashMap<String, String> meta = new java.util.LinkedHashMap<>();
        o.path("metadata").fields().forEachRemaining(e -> meta.put(e.getKey(), e.getValue().asText()));
        ApiBatch b = new ApiBatch(o.path("id").asText(), o.path("endpoint").asText(), o.path("input_file_id").asText(),
                o.path("created_at").asLong(), meta);
        String status = o.path("status").asText();
        switch (status) {
            case "completed", "failed", "cancelled", "expired" -> {
                b.status = status;
                b.outputFileId = text(o, "output_file_id");
                b.errorFileId = text(o, "error_file_id");
                b.inProgressAt = number(o, "in_progress_at");
                b.finalizingAt = number(o, "finalizing_at");
                b.completedAt = number(o, "completed_at");
                b.failedAt = number(o, "failed_at");
                b.expiredAt = number(o, "expired_at");
                b.cancellingAt = number(o, "cancelling_at");
                b.cancelledAt = number(o, "cancelled_at");
                JsonNode counts = o.path("request_counts");
                b.total = counts.path("total").asLong();
                b.completed = counts.path("completed").asLong();
                b.failed = counts.path("failed").asLong();
                JsonNode usage = o.path("usage");
                b.inputTokens = usage.path("input_tokens").asLong();
                b.cachedTokens = usage.at("/input_tokens_details/cached_tokens").asLong();
                b.outputTokens = usage.path("output_tokens").asLong();
                for (JsonNode e : o.at("/errors/data")) {
                    b.errors.add(new InputError(e.path("code").asText(), e.path("message").asText(), number(e, "line")));
                }
            }
            case "cancelling" -> {
                b.status = "cancelled"; // asked to stop before the restart: it stays stopped, with no files
                b.cancellingAt = number(o, "cancelling_at");
                b.cancelledAt = b.cancellingAt;
            }
            default -> { } // validating, in_progress, finalizing: runs again
        }
        return b;
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Long number(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? null : v.asLong();
    }
}
