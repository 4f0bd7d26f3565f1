package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file store and the batch list are bounded in entries as well as in bytes: many tiny uploads or batches cannot
 * grow the server's memory without end.
 */
class StorageBoundsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static FileStore.StoredFile store(FileStore files, String name) throws Exception {
        return files.commit(files.receive(name, new ByteArrayInputStream("{}\n".getBytes(StandardCharsets.UTF_8))), "batch");
    }

    @Test
    void aStoreOfTwoFilesRefusesAThirdUntilOneIsDeleted() throws Exception {
        FileStore files = new FileStore(dir, 1 << 20, 2, JSON);
        FileStore.StoredFile first = store(files, "a.jsonl");
        store(files, "b.jsonl");
        ApiException full = assertThrows(ApiException.class, () -> store(files, "c.jsonl"));
        assertEquals(413, full.status());
        assertTrue(full.getMessage().contains("at most 2 files"), full.getMessage());
        files.delete(first.id());
        store(files, "c.jsonl");
        assertEquals(2, files.list(null, true).size());
    }

    @Test
    void theOldestEndedBatchesAreForgottenAndUnendedOnesAreNever() throws Exception {
        FileStore files = new FileStore(dir, 1 << 20, 10, JSON);
        String input = store(files, "in.jsonl").id();
        Files.createDirectories(dir.resolve("batches"));
        for (String id : List.of("batch_a", "batch_b")) {
            ObjectNode kept = JSON.createObjectNode().put("id", id).put("endpoint", "/v1/chat/completions")
                    .put("input_file_id", input).put("created_at", id.equals("batch_a") ? 1 : 2).put("status", "completed");
            Files.writeString(dir.resolve("batches").resolve(id + ".json"), kept.toString());
        }
        ObjectNode body = JSON.createObjectNode().put("input_file_id", input).put("endpoint", "/v1/chat/completions")
                .put("completion_window", "24h");
        ApiBatches batches = new ApiBatches(files, JSON, ServerOptions.defaults("m"), new CompletableFuture<>(),
                () -> 1_000, new ServerMetrics(), 2); // the model never loads: created batches stay unended
        try {
            ApiBatch one = batches.create(body);
            assertEquals(List.of(one.id, "batch_b"), batches.list().stream().map(b -> b.id).toList(), "batch_a, the oldest, went");
            assertFalse(Files.exists(dir.resolve("batches").resolve("batch_a.json")), "with its kept JSON");
            ApiBatch two = batches.create(body);
            assertEquals(2, batches.list().size());
            assertTrue(batches.list().stream().noneMatch(b -> b.id.equals("batch_b")));
            assertEquals(429, assertThrows(ApiException.class, () -> batches.create(body)).status(),
                    "two batches wait: none may be forgotten");
            assertEquals(List.of(one.id, two.id).size(), batches.list().size());
        } finally {
            batches.close();
        }
    }
}
