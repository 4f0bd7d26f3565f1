package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.Session;
import dev.rg.core.model.LoadOptions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rg batch} end to end on the embedded model (reference backend, where a batch decodes each row bit for bit as
 * alone): every row's text is the prompt's own, whatever the batch size; a sampled row's text follows its key, not its
 * place; bad rows get their error and the job goes on; the output keeps the input's order and fields.
 */
class BatchCommandTest {
    private static final Path AUSTEN = BatchRuns.AUSTEN;
    private static final ObjectMapper JSON = BatchRuns.JSON;
    private static final String[] PROMPTS = BatchRuns.PROMPTS;

    @Test
    void greedyRowsAreEachPromptsOwnTextAtAnyBatchSize(@TempDir Path dir) throws Exception {
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < PROMPTS.length; i++) {
            in.append(JSON.writeValueAsString(java.util.Map.of("id", i, "prompt", PROMPTS[i]))).append('\n');
        }
        Path input = Files.writeString(dir.resolve("in.jsonl"), in);
        List<JsonNode> batched = run(dir, input, "-b", "4");
        List<JsonNode> single = run(dir, input, "-b", "1");
        assertEquals(PROMPTS.length, batched.size());
        try (RecurrentGemma rg = RecurrentGemma.load(AUSTEN, LoadOptions.defaults().withBackend("reference"))) {
            for (int i = 0; i < PROMPTS.length; i++) {
                JsonNode row = batched.get(i);
                assertEquals(i, row.get("id").asInt(), "input order");
                assertEquals(single.get(i), row, "batch size 4 = batch size 1");
                try (Session s = rg.session()) {
                    var alone = s.generate(PROMPTS[i], GenerationConfig.greedy(7), t -> true);
                    assertEquals(alone.text(), row.get("completion").asText(), "row " + i + " = the prompt alone");
                    assertEquals(alone.promptTokens(), row.get("prompt_tokens").asInt());
                    assertEquals(alone.tokens().length, row.get("completion_tokens").asInt());
                }
                assertTrue(row.get("error").isNull());
            }
        }
    }

    @Test
    void rowsContinueThePromptPrefixProcessedOnce(@TempDir Path dir) throws Exception {
        String prefix = "Chapter 1\nIt was a fine morning in Highbury.\n";
        Path prefixFile = Files.writeString(dir.resolve("prefix.txt"), prefix);
        StringBuilder in = new StringBuilder();
        for (String p : PROMPTS) {
            in.append(JSON.writeValueAsString(p)).append('\n');
        }
        in.append("{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}]}\n");
        Path input = Files.writeString(dir.resolve("in.jsonl"), in);
        List<JsonNode> rows = run(dir, input, "-b", "3", "--prompt-prefix-file", prefixFile.toString());
        assertEquals(rows, run(dir, input, "-b", "2", "--prompt-prefix", prefix), "the option and the file give the same rows");
        try (RecurrentGemma rg = RecurrentGemma.load(AUSTEN, LoadOptions.defaults().withBackend("reference"))) {
            int[] head = rg.withBos(rg.tokenize(prefix));
            for (int i = 0; i < PROMPTS.length; i++) {
                int[] own = rg.tokenize(PROMPTS[i]);
                int[] ids = java.util.Arrays.copyOf(head, head.length + own.length);
                System.arraycopy(own, 0, ids, head.length, own.length);
                try (Session s = rg.session()) {
                    s.feed(ids);
                    var alone = s.generate(GenerationConfig.greedy(7), t -> true);
                    assertEquals(alone.text(), rows.get(i).get("completion").asText(), "row " + i + " = its whole prompt alone");
                    assertEquals(ids.length, rows.get(i).get("prompt_tokens").asInt(), "the prefix counts");
                }
            }
        }
        assertEquals("line 6: a \"messages\" row cannot continue --prompt-prefix (the chat template wraps it)",
                rows.get(PROMPTS.length).get("error").asText());
        assertEquals("rg: error: --prompt-prefix cannot be combined with --chat: the chat template wraps each row's prompt; for"
                + " instructions shared by chats, give them as a system message in OpenAI batch requests",
                RgRun.stderr("batch", "-i", input.toString(), "--chat", "--prompt-prefix", prefix));
        assertEquals("rg: error: give --prompt-prefix or --prompt-prefix-file, not both", RgRun.stderr("batch", "-i",
                input.toString(), "--prompt-prefix", "x", "--prompt-prefix-file", prefixFile.toString()));
        assertEquals("rg: error: --prompt-prefix-file - and --input - cannot both read standard input",
                RgRun.stderr("batch", "-i", "-", "--prompt-prefix-file", "-"));
    }

    @Test
    void aSampledRowFollowsItsKeyNotItsPlace(@TempDir Path dir) throws Exception {
        // the same key and prompt at lines 1 and 4, in different batches of 2 and with other rows around them
        Path input = Files.writeString(dir.resolve("in.jsonl"), String.join("\n",
                "{\"id\": 5, \"prompt\": \"She was\"}", "{\"id\": 6, \"prompt\": \"She was\"}", "\"Mr. Darcy\"",
                "{\"id\": 5, \"prompt\": \"She was\"}", "\"Mr. Darcy\""));
        List<JsonNode> rows = run(dir, input, "-b", "2", "--temperature", "1", "--seed", "11");
        assertEquals(rows.get(0).get("completion"), rows.get(3).get("completion"), "key 5 twice");
        assertEquals(rows.get(2).get("completion"), rows.get(4).get("completion"), "no key: the prompt is the key");
        assertNotEquals(rows.get(0).get("completion"), rows.get(1).get("completion"), "key 6 samples its own text");
        List<JsonNode> again = run(dir, input, "-b", "3", "--temperature", "1", "--seed", "11");
        assertEquals(rows, again, "another batch size, the same rows");
    }

    @Test
    void badRowsGetTheirErrorAndTheJobGoesOn(@TempDir Path dir) throws Exception {
        byte[] latin1 = "\"caf\u00e9\"".getBytes(StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        in.writeBytes(String.join("\n", "{\"id\": 1, \"prompt\": \"\", \"tag\": \"kept\"}", "not json", "[1, 2]",
                "{\"id\": 4}", "{\"prompt\": \"a\", \"prompt\": \"b\"}", "", "   ", "{\"id\": 6, \"prompt\": \"" + "Emma ".repeat(40)
                + "\"}", "").getBytes(StandardCharsets.UTF_8));
        in.writeBytes(latin1);
        in.writeBytes("\r\n{\"id\": 8, \"prompt\": \"Mr. Darcy\"}".getBytes(StandardCharsets.UTF_8)); // no final line break
        Path input = Files.write(dir.resolve("in.jsonl"), in.toByteArray());
        List<JsonNode> rows = run(dir, input, "--max-prompt-tokens", "20");
        List<String> errors = new ArrayList<>();
        rows.forEach(r -> errors.add(r.get("error").isNull() ? null : r.get("error").asText()));
        assertEquals(8, rows.size(), "blank lines are skipped, every other line is a row: " + errors);
        assertEquals("line 1: the prompt is empty", errors.get(0));
        assertEquals("kept", rows.get(0).get("tag").asText(), "the row's own fields stay");
        assertTrue(errors.get(1).startsWith("line 2 is not JSON: "), errors.get(1));
        assertEquals("line 3: expected a JSON string (the prompt) or an object with a \"prompt\" string or \"messages\", got array",
                errors.get(2));
        assertEquals("line 4: no \"prompt\" string or \"messages\" array", errors.get(3));
        assertTrue(errors.get(4).startsWith("line 5 is not JSON: Duplicate field 'prompt'"), errors.get(4));
        assertTrue(errors.get(5).matches("line 8: the prompt has \\d+ tokens \\(BOS included\\), more than --max-prompt-tokens 20"),
                errors.get(5));
        assertEquals("line 9 is not UTF-8 (invalid byte at offset 4)", errors.get(6));
        assertEquals(2, rows.get(1).get("line").asInt(), "an unreadable row names its line");
        assertTrue(errors.get(7) == null && rows.get(7).get("completion").asText().length() > 0, "the last row is generated");
        assertEquals(8, rows.get(7).get("id").asInt());
    }

    @Test
    void messagesRowsAreConversationsFoldedAsTheServerFoldsThem(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), String.join("\n",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Who is Emma?\"}]}",
                "{\"prompt\": \"Who is Emma?\"}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Who is Emma?\"}]}",
                "{\"prompt\": \"Be brief.\\n\\nWho is Emma?\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello.\"}]}",
                "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}",
                "{\"messages\": [{\"role\": \"user\", \"content\": [1]}]}",
                "{\"messages\": [], \"id\": 8}",
                "{\"prompt\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}"));
        List<JsonNode> rows = run(dir, input, "--chat");
        assertEquals(rows.get(1).get("completion"), rows.get(0).get("completion"), "one user message = the prompt with --chat");
        assertEquals(rows.get(1).get("prompt_tokens"), rows.get(0).get("prompt_tokens"));
        assertEquals(rows.get(3).get("completion"), rows.get(2).get("completion"), "system text opens the user turn");
        assertEquals(rows.get(3).get("prompt_tokens"), rows.get(2).get("prompt_tokens"));
        assertTrue(rows.get(0).get("messages").isArray(), "the row keeps its messages");
        assertEquals("line 5: the last message must be from the user (the model answers it)", rows.get(4).get("error").asText());
        assertEquals("line 6: messages[0].role must be system, developer, user or assistant, got 'robot'",
                rows.get(5).get("error").asText());
        assertEquals("line 7: messages[0] must be an object with \"role\" and \"content\" strings", rows.get(6).get("error").asText());
        assertEquals("line 8: \"messages\" must be a non-empty array of {role, content}", rows.get(7).get("error").asText());
        assertEquals("line 9: give either \"prompt\" or \"messages\", not both", rows.get(8).get("error").asText());
    }

    @Test
    void aRowsOwnMaxTokensIsItsBudget(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), String.join("\n",
                "{\"prompt\": \"She was\", \"max_tokens\": 2}", "{\"prompt\": \"She was\"}",
                "{\"prompt\": \"She was\", \"max_tokens\": 3.5}", "{\"prompt\": \"She was\", \"max_tokens\": 11}"));
        List<JsonNode> rows = run(dir, input, "--ignore-eos");
        assertEquals(2, rows.get(0).get("completion_tokens").asInt());
        assertEquals(7, rows.get(1).get("completion_tokens").asInt(), "-n 7 without one");
        assertEquals("line 3: \"max_tokens\" must be a whole number in [1, 100000000], got 3.5", rows.get(2).get("error").asText());
        assertEquals(11, rows.get(3).get("completion_tokens").asInt());
        assertTrue(rows.get(3).get("completion").asText().startsWith(rows.get(1).get("completion").asText()),
                "a longer budget continues the same greedy text");
    }

    @Test
    void longRunsOfBadRowsAreWrittenInOrderWithoutWaitingForTheEnd(@TempDir Path dir) throws Exception {
        // more bad rows in a row than a batch holds while it waits for good ones (BatchJob.MAX_WAITING_ROWS)
        StringBuilder in = new StringBuilder();
        int bad = BatchJob.MAX_WAITING_ROWS * 2 + 7;
        for (int i = 0; i < bad; i++) {
            in.append("{\"id\": ").append(i).append(", \"prompt\": \"\"}\n");
            if (i == 300) {
                in.append("{\"id\": \"good\", \"prompt\": \"She was\"}\n");
            }
        }
        List<JsonNode> rows = run(dir, Files.writeString(dir.resolve("in.jsonl"), in), "-b", "2");
        assertEquals(bad + 1, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            JsonNode r = rows.get(i);
            if (i == 301) {
                assertEquals("good", r.get("id").asText());
                assertTrue(r.get("error").isNull() && !r.get("completion").asText().isEmpty());
            } else {
                assertEquals(i < 301 ? i : i - 1, r.get("id").asInt(), "row " + i);
                assertEquals("line " + (i + 1) + ": the prompt is empty", r.get("error").asText());
            }
        }
    }

    @Test
    void rowsWaitingBehindALongRowAreBounded() {
        // a long row first, then bad rows that finish at once but must wait for it: an input that hands over one line
        // per read, so the lines read before the first output row can be counted
        int[] linesRead = {0};
        java.io.InputStream oneLinePerRead = new java.io.InputStream() {
            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (linesRead[0] == 2000) {
                    return -1;
                }
                String row = linesRead[0] == 0 ? "{\"id\": 0, \"prompt\": \"She was\"}" : "{\"id\": " + linesRead[0] + ", \"prompt\": \"\"}";
                linesRead[0]++;
                byte[] line = (row + "\n").getBytes(StandardCharsets.UTF_8);
                System.arraycopy(line, 0, b, off, line.length);
                return line.length;
            }
        };
        int[] readAtFirstWrite = {-1};
        List<String> written = new ArrayList<>();
        try (RecurrentGemma rg = RecurrentGemma.load(AUSTEN, LoadOptions.defaults().withBackend("reference"))) {
            GenerationConfig cfg = new GenerationConfig(30, dev.rg.core.generate.SamplingParams.greedy(), List.of(), java.util.Set.of(), false);
            BatchJob job = new BatchJob(rg, cfg, 4, 4096, false, "id", null);
            RowJob.Totals t = job.run(new JsonlLines(oneLinePerRead, "test"), line -> {
                if (readAtFirstWrite[0] < 0) {
                    readAtFirstWrite[0] = linesRead[0];
                }
                written.add(line);
                return true;
            }, done -> { });
            assertEquals(2000, t.rows());
            assertEquals(1999, t.errors());
        }
        assertEquals(4 + BatchJob.MAX_WAITING_ROWS, readAtFirstWrite[0], "reading stops at the bound while the long row runs");
        assertTrue(written.get(0).contains("\"completion_tokens\":30"), written.get(0));
        assertTrue(written.get(1999).startsWith("{\"id\":1999,"), "input order: " + written.get(1999));
    }

    @Test
    void aStoppedJobResumesAfterItsFinishedRowsAndEndsAsIfNeverStopped(@TempDir Path dir) throws Exception {
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            in.append(i == 4 ? "not json" : JSON.writeValueAsString(java.util.Map.of("id", i, "prompt", PROMPTS[i % PROMPTS.length])))
                    .append('\n');
        }
        Path input = Files.writeString(dir.resolve("in.jsonl"), in);
        List<JsonNode> whole = run(dir, input, "-b", "2", "--temperature", "1", "--seed", "3");
        Path out = dir.resolve("out.jsonl");
        List<String> lines = Files.readAllLines(out);
        // what a run stopped while writing row 6 leaves: rows 1-5 and part of the sixth, no output file
        Path partial = dir.resolve("out.jsonl.partial");
        Files.writeString(partial, String.join("\n", lines.subList(0, 5)) + "\n" + lines.get(5).substring(0, 9));
        Files.delete(out);
        String refused = RgRun.stderr("batch", "--model", AUSTEN.toString(), "-i", input.toString(), "-o", out.toString());
        assertEquals("rg: error: --output: " + partial + " holds 5 rows of an earlier run that stopped; --resume carries on after"
                + " them, or delete it to start again", refused);
        List<JsonNode> resumed = run(dir, input, "-b", "3", "--temperature", "1", "--seed", "3", "--resume");
        assertEquals(whole, resumed, "the stopped and resumed job gives the rows of the whole one");
        assertTrue(Files.notExists(partial));

        // a partial file that the input did not make is not resumed into a mix
        Files.writeString(partial, String.join("\n", lines.subList(0, 3)) + "\n");
        Path other = Files.writeString(dir.resolve("other.jsonl"), in.toString().replace("\"id\":2", "\"id\":20"));
        assertEquals("rg: error: --resume: row 3 of " + partial + " was not made from line 3 of the input; was the input changed?"
                + " Delete it to start again", RgRun.stderr("batch", "--model", AUSTEN.toString(), "-i", other.toString(), "-o",
                out.toString(), "--resume"));
        assertEquals(3, Files.readAllLines(partial).size(), "a refused resume leaves the rows as they were");
    }

    @Test
    void aSecondJobWithTheSameOutputIsRefusedWhileTheFirstRuns(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), "\"x\"\n");
        Path partial = dir.resolve("out.jsonl.partial");
        try (var running = java.nio.channels.FileChannel.open(partial, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE); var lock = running.lock()) {
            assertEquals("rg: error: --output: " + partial + " is being written by another running rg batch; wait for it to"
                    + " finish, or give another -o", RgRun.stderr("batch", "--model", AUSTEN.toString(), "-i", input.toString(),
                    "-o", dir.resolve("out.jsonl").toString()));
        }
        run(dir, input);
        assertTrue(Files.notExists(partial), "once it is free, the job runs");
    }

    @Test
    void aJobThatFailsBeforeItsFirstRowLeavesNoPartialFile(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), "\"x\"\n");
        String err = RgRun.stderr("batch", "--model", AUSTEN.toString(), "--backend", "warp-drive", "-i", input.toString(), "-o",
                dir.resolve("out.jsonl").toString());
        assertTrue(err.startsWith("rg: error: ") && err.contains("warp-drive"), err);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(input), files.toList());
        }
        assertEquals("rg: error: --resume needs -o FILE, a file: it carries on with FILE.partial",
                RgRun.stderr("batch", "-i", input.toString(), "--resume"));
        assertEquals("rg: error: --resume needs -o FILE, a file: it carries on with FILE.partial",
                RgRun.stderr("batch", "-i", input.toString(), "-o", "/dev/null", "--resume"));
    }

    @Test
    void aDeviceOrPipeIsWrittenAsAStream(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), "\"x\"\n\"y\"\n");
        String err = RgRun.stderr("batch", "--model", AUSTEN.toString(), "-i", input.toString(), "-n", "2", "-o", "/dev/null");
        assertTrue(err.startsWith("[2 rows, 0 with errors"), err);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(input), files.toList(), "no partial file beside the input");
        }
    }

    @Test
    void argumentsAreCheckedBeforeTheModelLoads(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), "\"x\"\n");
        Path existing = Files.writeString(dir.resolve("out.jsonl"), "old\n");
        assertEquals("rg: error: --batch-size must be in [1, 4096], got 0", RgRun.stderr("batch", "-i", input.toString(), "-b", "0",
                "-o", existing.toString()));
        assertEquals("rg: error: --input: no such file: " + dir.resolve("nope"), RgRun.stderr("batch", "-i", dir.resolve("nope").toString()));
        assertEquals("rg: error: --input: " + dir + " is a directory, not a file", RgRun.stderr("batch", "-i", dir.toString()));
        assertEquals("rg: error: --output: directory " + dir.resolve("no") + " does not exist",
                RgRun.stderr("batch", "-i", input.toString(), "-o", dir.resolve("no/out.jsonl").toString()));
        assertEquals("old\n", Files.readString(existing), "a refused job leaves the output as it was");
    }

    @Test
    void progressLineSaysRowsRateAndTimeLeft() {
        assertEquals("rg batch: 120 / 1000 rows, 4.00 rows/s, 3 min 40 s left", RowProgress.line(120, 1000, 30));
        assertEquals("rg batch: 7 rows, 0.50 rows/s", RowProgress.line(7, -1, 14));
        assertEquals("rg batch: 10 / 10 rows, 1.00 rows/s", RowProgress.line(10, 10, 10));
    }

    /** A job with {@code -n 7} and {@code options}. */
    private static List<JsonNode> run(Path dir, Path input, String... options) throws Exception {
        List<String> all = new ArrayList<>(List.of("-n", "7"));
        all.addAll(List.of(options));
        return BatchRuns.run(dir, input, all.toArray(String[]::new));
    }
}
