package dev.rg.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FileObject;
import com.openai.models.files.FilePurpose;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.LoadOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenAI's Files and Batch APIs on {@code rg serve}, driven by the official OpenAI Java SDK: an uploaded file of
 * requests runs as a batch whose output lines carry what the endpoint answers for each body; invalid inputs fail before
 * anything runs; cancelled and expired batches end as OpenAI's do; files and batches outlast a restart with
 * {@code --files-dir}.
 */
class BatchApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static String line(String customId, String url, ObjectNode body) {
        ObjectNode o = JSON.createObjectNode().put("custom_id", customId).put("method", "POST").put("url", url);
        o.set("body", body);
        return o.toString();
    }

    private static ObjectNode chatBody(String content, int maxTokens) {
        ObjectNode body = JSON.createObjectNode().put("model", TestServers.MODEL).put("max_tokens", maxTokens).put("temperature", 0.0);
        body.putArray("messages").addObject().put("role", "user").put("content", content);
        return body;
    }

    private Path file(String name, List<String> lines) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, lines, StandardCharsets.UTF_8);
        return p;
    }

    private static FileObject upload(OpenAIClient c, Path p) {
        return c.files().create(FileCreateParams.builder().file(p).purpose(FilePurpose.BATCH).build());
    }

    private static Batch create(OpenAIClient c, String fileId) {
        return c.batches().create(BatchCreateParams.builder().inputFileId(fileId)
                .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS).completionWindow(BatchCreateParams.CompletionWindow._24H)
                .metadata(BatchCreateParams.Metadata.builder().putAdditionalProperty("job", JsonValue.from("test")).build())
                .build());
    }

    /** Polls the batch (bounded: 3 minutes) until it has ended. */
    private static Batch ended(OpenAIClient c, String id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (true) {
            Batch b = c.batches().retrieve(id);
            switch (b.status().asString()) {
                case "completed", "failed", "cancelled", "expired" -> {
                    return b;
                }
                default -> { }
            }
            assertTrue(System.nanoTime() < deadline, "batch " + id + " still " + b.status() + " after 3 minutes");
            Thread.sleep(50);
        }
    }

    /** The lines of a stored file, downloaded through the SDK, by custom_id. */
    private static Map<String, JsonNode> lines(OpenAIClient c, String fileId) throws IOException {
        Map<String, JsonNode> out = new HashMap<>();
        try (var response = c.files().content(fileId); InputStream in = response.body()) {
            for (String l : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!l.isBlank()) {
                    JsonNode o = JSON.readTree(l);
                    out.put(o.path("custom_id").asText(), o);
                }
            }
        }
        return out;
    }

    private static JsonNode post(RgServer s, String path, String body) throws Exception {
        try (HttpClient h = HttpClient.newHttpClient()) {
            HttpResponse<String> r = h.send(HttpRequest.newBuilder(URI.create(TestServers.base(s) + path))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        }
    }

    @Test
    void aBatchAnswersEachRequestAsTheEndpointDoes() throws Exception {
        Random rnd = new Random(20261207);
        List<String> input = new ArrayList<>();
        Map<String, ObjectNode> greedy = new HashMap<>();
        for (int i = 0; i < 8; i++) {
            ObjectNode body = chatBody(TestServers.randomWords(rnd, 1 + rnd.nextInt(8)), 2 + rnd.nextInt(10));
            greedy.put("greedy-" + i, body);
            input.add(line("greedy-" + i, "/v1/chat/completions", body));
        }
        ObjectNode sampled = chatBody("Elizabeth walked to Netherfield", 8).put("temperature", 0.9).put("n", 2);
        input.add(line("sampled", "/v1/chat/completions", sampled));
        input.add(line("refused", "/v1/chat/completions", chatBody("Hello", -1)));

        RgServer server = TestServers.start(TestServers.options().withFiles(tmp.resolve("files"), 1L << 20, 2));
        OpenAIClient c1 = TestServers.client(server);
        try {
            OpenAIClient c = c1;
            FileObject in = upload(c, file("requests.jsonl", input));
            assertEquals("requests.jsonl", in.filename());
            assertEquals(Files.size(tmp.resolve("requests.jsonl")), in.bytes());
            Batch b = ended(c, create(c, in.id()).id());

            assertEquals("completed", b.status().asString());
            assertEquals(10, b.requestCounts().orElseThrow().total());
            assertEquals(9, b.requestCounts().orElseThrow().completed());
            assertEquals(1, b.requestCounts().orElseThrow().failed());
            assertEquals("test", b.metadata().orElseThrow()._additionalProperties().get("job").asStringOrThrow());
            Map<String, JsonNode> out = lines(c, b.outputFileId().orElseThrow());
            Map<String, JsonNode> errors = lines(c, b.errorFileId().orElseThrow());
            assertEquals(9, out.size());
            assertEquals(400, errors.get("refused").at("/response/status_code").asInt());
            assertEquals("max_tokens", errors.get("refused").at("/response/body/error/param").asText());

            long promptTokens = 0;
            for (var e : greedy.entrySet()) {
                JsonNode row = out.get(e.getKey());
                assertEquals(200, row.at("/response/status_code").asInt());
                JsonNode alone = post(server, "/v1/chat/completions", e.getValue().toString());
                assertEquals(alone.at("/choices/0/message/content").asText(), row.at("/response/body/choices/0/message/content").asText(),
                        e.getKey() + ": the batch answers as the endpoint does");
                assertEquals(alone.at("/usage/prompt_tokens").asLong(), row.at("/response/body/usage/prompt_tokens").asLong());
                promptTokens += alone.at("/usage/prompt_tokens").asLong();
            }
            assertEquals(2, out.get("sampled").at("/response/body/choices").size(), "n = 2");
            promptTokens += out.get("sampled").at("/response/body/usage/prompt_tokens").asLong();
            assertEquals(promptTokens, b.usage().orElseThrow().inputTokens(), "the batch's usage sums its rows'");
            String metrics = TestServers.metrics(server);
            assertEquals(9, TestServers.metric(metrics, "rg_batch_requests_total{result=\"completed\"}"), metrics);
            assertEquals(1, TestServers.metric(metrics, "rg_batch_requests_total{result=\"failed\"}"));
            assertEquals(1, TestServers.metric(metrics, "rg_batches{status=\"completed\"}"));

            // the files are listed, and a deleted one is gone
            List<String> ids = new ArrayList<>();
            c.files().list().data().forEach(f -> ids.add(f.id()));
            assertTrue(ids.containsAll(List.of(in.id(), b.outputFileId().get(), b.errorFileId().get())), ids.toString());
            assertTrue(c.files().delete(in.id()).deleted());
            assertThrows(NotFoundException.class, () -> c.files().retrieve(in.id()));
            assertEquals(409, assertThrows(OpenAIServiceException.class, () -> c.batches().cancel(b.id())).statusCode(),
                    "an ended batch cannot be cancelled");
        } finally {
            c1.close();
            server.close();
        }
    }

    @Test
    void aBatchOfResponsesRequestsAnswersAsTheResponsesEndpoint() throws Exception {
        Random rnd = new Random(42);
        List<String> input = new ArrayList<>();
        Map<String, ObjectNode> bodies = new HashMap<>();
        for (int i = 0; i < 4; i++) {
            ObjectNode body = JSON.createObjectNode().put("model", TestServers.MODEL).put("input", TestServers.randomWords(rnd, 5))
                    .put("instructions", "Answer as in the novel.").put("max_output_tokens", 3 + i).put("temperature", 0.0);
            bodies.put("r" + i, body);
            input.add(line("r" + i, "/v1/responses", body));
        }
        input.add(line("continued", "/v1/responses", JSON.createObjectNode().put("input", "Go on").put("previous_response_id", "resp_x")));
        RgServer server = TestServers.start(TestServers.options());
        OpenAIClient c = TestServers.client(server);
        try {
            Batch b = ended(c, c.batches().create(BatchCreateParams.builder().inputFileId(upload(c, file("responses.jsonl", input)).id())
                    .endpoint(BatchCreateParams.Endpoint.V1_RESPONSES).completionWindow(BatchCreateParams.CompletionWindow._24H)
                    .build()).id());
            assertEquals("completed", b.status().asString());
            Map<String, JsonNode> out = lines(c, b.outputFileId().orElseThrow());
            for (var e : bodies.entrySet()) {
                JsonNode row = out.get(e.getKey()).at("/response/body");
                JsonNode alone = post(server, "/v1/responses", e.getValue().toString());
                assertEquals("response", row.path("object").asText());
                assertEquals(alone.at("/output/0/content/0/text").asText(), row.at("/output/0/content/0/text").asText(), e.getKey());
                assertEquals(alone.at("/usage/input_tokens").asLong(), row.at("/usage/input_tokens").asLong());
                assertEquals(alone.path("status").asText(), row.path("status").asText());
            }
            JsonNode refused = lines(c, b.errorFileId().orElseThrow()).get("continued");
            assertEquals(400, refused.at("/response/status_code").asInt());
            assertEquals("previous_response_id", refused.at("/response/body/error/param").asText());
        } finally {
            c.close();
            server.close();
        }
    }

    @Test
    void anInvalidInputFailsTheBatchBeforeAnythingRuns() throws Exception {
        ObjectNode body = chatBody("Hello", 4);
        List<String> input = List.of(
                line("one", "/v1/chat/completions", body),
                line("one", "/v1/chat/completions", body),
                line("two", "/v1/completions", JSON.createObjectNode().put("prompt", "x")),
                "not json",
                JSON.createObjectNode().put("custom_id", "three").put("method", "POST").put("url", "/v1/chat/completions").toString());
        RgServer server = TestServers.start(TestServers.options());
        OpenAIClient c2 = TestServers.client(server);
        try {
            OpenAIClient c = c2;
            Batch b = ended(c, create(c, upload(c, file("bad.jsonl", input)).id()).id());
            assertEquals("failed", b.status().asString());
            assertTrue(b.outputFileId().isEmpty() && b.errorFileId().isEmpty());
            List<String> found = new ArrayList<>();
            b.errors().orElseThrow().data().orElseThrow().forEach(e -> found.add(e.line().orElseThrow() + " " + e.code().orElseThrow()));
            assertEquals(List.of("2 duplicate_custom_id", "3 mismatched_endpoint", "4 invalid_json", "5 invalid_body"), found);

            // parameters OpenAI's API would refuse are refused at creation
            FileObject f = upload(c, file("ok.jsonl", List.of(line("a", "/v1/chat/completions", body))));
            assertEquals("endpoint", assertThrows(BadRequestException.class, () -> c.batches().create(BatchCreateParams.builder()
                    .inputFileId(f.id()).endpoint(BatchCreateParams.Endpoint.V1_EMBEDDINGS)
                    .completionWindow(BatchCreateParams.CompletionWindow._24H).build())).param().orElseThrow());
            assertEquals("input_file_id", assertThrows(BadRequestException.class, () -> create(c, "file-nope")).param().orElseThrow());
            JsonNode wrongWindow = post(server, "/v1/batches", "{\"input_file_id\":\"" + f.id()
                    + "\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"48h\"}");
            assertEquals("completion_window", wrongWindow.at("/error/param").asText());
        } finally {
            c2.close();
            server.close();
        }
    }

    @Test
    void batchesCancelledOrExpiredBeforeTheyRunEndAsOpenAisDo() throws Exception {
        CountDownLatch load = new CountDownLatch(1);
        AtomicLong offset = new AtomicLong();
        RgServer server = RgServer.start(TestServers.options(), () -> {
            awaitQuietly(load);
            return RecurrentGemma.load(TestServers.austen(), LoadOptions.defaults().withThreads(1));
        }, () -> System.currentTimeMillis() / 1000 + offset.get());
        OpenAIClient c3 = TestServers.client(server);
        try {
            OpenAIClient c = c3;
            List<String> input = List.of(line("a", "/v1/chat/completions", chatBody("Hello", 4)),
                    line("b", "/v1/chat/completions", chatBody("Good morning", 4)));
            FileObject f = upload(c, file("two.jsonl", input)); // the files API works while the model loads
            Batch cancelled = create(c, f.id());
            Batch expired = create(c, f.id());
            assertEquals("cancelling", c.batches().cancel(cancelled.id()).status().asString());
            offset.set(ApiBatch.WINDOW_SECONDS + 60); // a day passes before the model is ready
            load.countDown();

            Batch one = ended(c, cancelled.id());
            assertEquals("cancelled", one.status().asString());
            assertTrue(one.cancelledAt().isPresent() && one.outputFileId().isEmpty() && one.errorFileId().isEmpty());
            Batch two = ended(c, expired.id());
            assertEquals("expired", two.status().asString());
            assertTrue(two.expiredAt().isPresent() && two.outputFileId().isEmpty());
            Map<String, JsonNode> errors = lines(c, two.errorFileId().orElseThrow());
            assertEquals(2, errors.size());
            for (JsonNode e : errors.values()) {
                assertEquals("batch_expired", e.at("/error/code").asText());
            }
            assertEquals(2, two.requestCounts().orElseThrow().failed());
        } finally {
            c3.close();
            server.close();
        }
    }

    @Test
    void aCancelledBatchStopsStartingRequestsAndKeepsWhatWasDone() throws Exception {
        List<String> input = new ArrayList<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 5000; i++) { // minutes of work: it cannot end before the cancel arrives
            input.add(line("r" + i, "/v1/chat/completions", chatBody(TestServers.randomWords(rnd, 4), 100).put("ignore_eos", true)));
        }
        RgServer server = TestServers.start(TestServers.options());
        OpenAIClient c = TestServers.client(server);
        try {
            Batch b = create(c, upload(c, file("many.jsonl", input)).id());
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (c.batches().retrieve(b.id()).requestCounts().orElseThrow().completed() == 0) {
                assertTrue(System.nanoTime() < deadline, "no request finished in 3 minutes");
                Thread.sleep(20);
            }
            assertEquals("cancelling", c.batches().cancel(b.id()).status().asString());
            Batch done = ended(c, b.id());
            assertEquals("cancelled", done.status().asString());
            long completed = done.requestCounts().orElseThrow().completed();
            assertTrue(completed >= 1 && completed < 5000, "completed " + completed);
            assertEquals(completed, lines(c, done.outputFileId().orElseThrow()).size(), "every request that ran is in the output");
            assertEquals(5000, done.requestCounts().orElseThrow().total());
        } finally {
            c.close();
            server.close();
        }
    }

    @Test
    void filesAndBatchesOutlastARestart() throws Exception {
        Path dir = tmp.resolve("kept");
        ServerOptions options = TestServers.options().withFiles(dir, 1L << 20, 0);
        List<String> input = List.of(line("a", "/v1/chat/completions", chatBody("Who is Mr. Darcy?", 6)),
                line("b", "/v1/chat/completions", chatBody("Tell me of Emma", 6)));
        String fileId;
        String doneId;
        String pendingId;
        Map<String, JsonNode> before;
        RgServer first = TestServers.start(options);
        OpenAIClient c4 = TestServers.client(first);
        try {
            OpenAIClient c = c4;
            fileId = upload(c, file("in.jsonl", input)).id();
            Batch done = ended(c, create(c, fileId).id());
            doneId = done.id();
            before = lines(c, done.outputFileId().orElseThrow());
        } finally {
            c4.close();
            first.close();
        }
        // a server that never finishes loading: its batch is created, kept and left unfinished
        CountDownLatch never = new CountDownLatch(1);
        RgServer stuck = RgServer.start(options, () -> {
            awaitQuietly(never);
            throw new IllegalStateException("not loaded");
        });
        OpenAIClient c5 = TestServers.client(stuck);
        try {
            OpenAIClient c = c5;
            pendingId = create(c, fileId).id();
            assertEquals("validating", c.batches().retrieve(pendingId).status().asString());
        } finally {
            c5.close();
            stuck.close();
            never.countDown();
        }
        RgServer again = TestServers.start(options);
        OpenAIClient c6 = TestServers.client(again);
        try {
            OpenAIClient c = c6;
            assertEquals("in.jsonl", c.files().retrieve(fileId).filename());
            Batch done = c.batches().retrieve(doneId);
            assertEquals("completed", done.status().asString());
            assertEquals(texts(before), texts(lines(c, done.outputFileId().orElseThrow())));
            Batch rerun = ended(c, pendingId);
            assertEquals("completed", rerun.status().asString(), "the unfinished batch ran after the restart");
            assertEquals(texts(before), texts(lines(c, rerun.outputFileId().orElseThrow())), "greedy: the same answers");
        } finally {
            c6.close();
            again.close();
        }
        assertTrue(Files.isDirectory(dir), "--files-dir stays");
    }

    @Test
    void aRequestOfMorePromptsThanSlotsStillRuns() throws Exception {
        ObjectNode body = JSON.createObjectNode().put("max_tokens", 2).put("temperature", 0.0);
        var prompts = body.putArray("prompt");
        for (String p : List.of("It is a truth", "Mr. Darcy", "Elizabeth said", "The ball at Netherfield", "Her mother")) {
            prompts.add(p);
        }
        RgServer server = TestServers.start(TestServers.options().withLimits(2, 8));
        OpenAIClient c = TestServers.client(server);
        try {
            FileObject f = upload(c, file("five.jsonl", List.of(line("five", "/v1/completions", body))));
            Batch b = ended(c, c.batches().create(BatchCreateParams.builder().inputFileId(f.id())
                    .endpoint(BatchCreateParams.Endpoint.V1_COMPLETIONS).completionWindow(BatchCreateParams.CompletionWindow._24H)
                    .build()).id());
            assertEquals("completed", b.status().asString());
            assertEquals(5, lines(c, b.outputFileId().orElseThrow()).get("five").at("/response/body/choices").size(),
                    "five prompts on two slots: admitted one by one as slots free, not waiting for five free slots");
        } finally {
            c.close();
            server.close();
        }
    }

    @Test
    void uploadsBeyondTheBoundOrNotMultipartAreRefused() throws Exception {
        RgServer server = TestServers.start(TestServers.options().withFiles(null, 4096, 0));
        OpenAIClient c7 = TestServers.client(server);
        try {
            OpenAIClient c = c7;
            List<String> big = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                big.add(line("r" + i, "/v1/chat/completions", chatBody("Hello there, Mr. Bennet", 4)));
            }
            OpenAIServiceException tooBig = assertThrows(OpenAIServiceException.class, () -> upload(c, file("big.jsonl", big)));
            assertEquals(413, tooBig.statusCode());
            assertTrue(c.files().list().data().isEmpty(), "nothing was kept of the refused upload");
            assertNotNull(upload(c, file("small.jsonl", List.of(line("a", "/v1/chat/completions", chatBody("Hi", 2))))).id(),
                    "the room is free again");
            JsonNode notMultipart = post(server, "/v1/files", "{}");
            assertTrue(notMultipart.at("/error/message").asText().contains("multipart/form-data"), notMultipart.toString());
            assertFalse(c.files().list().data().isEmpty());
        } finally {
            c7.close();
            server.close();
        }
    }

    private static Map<String, String> texts(Map<String, JsonNode> rows) {
        Map<String, String> out = new HashMap<>();
        rows.forEach((id, row) -> out.put(id, row.at("/response/body/choices/0/message/content").asText()));
        return out;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
