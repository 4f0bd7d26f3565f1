package dev.rg.cli;

import static dev.rg.cli.BatchRuns.AUSTEN;
import static dev.rg.cli.BatchRuns.JSON;
import static dev.rg.cli.BatchRuns.PROMPTS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.Session;
import dev.rg.core.model.LoadOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rg batch} on an OpenAI Batch API input file: the form is recognised from its first line, each request is
 * answered in OpenAI's batch output format in input order (its body is the endpoint's, checked against the HTTP
 * endpoint in rg-server's {@code OpenAiBatchTest}), bad lines get their error and the job goes on, a stopped job
 * resumes, and options that the bodies set are refused.
 */
class OpenAiBatchCommandTest {
    @Test
    void requestsAreAnsweredInOrderInOpenAisOutputFormat(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), requests(7));
        List<JsonNode> rows = run(dir, input, "-b", "3");
        assertEquals(7, rows.size());
        try (RecurrentGemma rg = RecurrentGemma.load(AUSTEN, LoadOptions.defaults().withBackend("reference"))) {
            for (int i = 0; i < 7; i++) {
                JsonNode row = rows.get(i);
                assertEquals("batch_req_" + (i + 1), row.get("id").asText());
                if (i == 4) {
                    assertTrue(row.get("response").isNull(), row.toString());
                    assertEquals("line 5 is not a JSON object", row.at("/error/message").asText());
                    continue;
                }
                assertEquals("q" + i, row.get("custom_id").asText(), "input order");
                assertEquals(200, row.at("/response/status_code").asInt(), row.toString());
                JsonNode body = row.at("/response/body");
                assertEquals("text_completion", body.get("object").asText());
                try (Session s = rg.session()) {
                    var alone = s.generate(PROMPTS[i % PROMPTS.length], GenerationConfig.greedy(1 + i), t -> true);
                    assertEquals(alone.text(), body.at("/choices/0/text").asText(), "line " + (i + 1) + " = the prompt alone");
                    assertEquals(alone.promptTokens(), body.at("/usage/prompt_tokens").asInt());
                    assertEquals(alone.tokens().length, body.at("/usage/completion_tokens").asInt());
                }
            }
        }
    }

    @Test
    void aStoppedJobResumesAfterItsFinishedRows(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), requests(6));
        List<JsonNode> whole = run(dir, input, "-b", "2");
        Path out = dir.resolve("out.jsonl");
        List<String> lines = Files.readAllLines(out);
        Path partial = dir.resolve("out.jsonl.partial");
        Files.writeString(partial, String.join("\n", lines.subList(0, 3)) + "\n" + lines.get(3).substring(0, 20));
        Files.delete(out);
        List<JsonNode> resumed = run(dir, input, "-b", "3", "--resume");
        assertEquals(withoutTimes(whole), withoutTimes(resumed), "the stopped and resumed job gives the rows of the whole one");

        Files.writeString(partial, String.join("\n", lines.subList(0, 3)) + "\n");
        Path other = Files.writeString(dir.resolve("other.jsonl"), requests(6).replace("\"q2\"", "\"q20\""));
        assertEquals("rg: error: --resume: row 3 of " + partial + " was not made from line 3 of the input; was the input changed?"
                + " Delete it to start again", RgRun.stderr("batch", "--model", AUSTEN.toString(), "-i", other.toString(), "-o",
                out.toString(), "--resume"));
    }

    @Test
    void theSummarySaysHowManyPromptTokensWereResumedFromASharedSystemMessage(@TempDir Path dir) throws Exception {
        StringBuilder in = new StringBuilder();
        String system = String.join(" ", PROMPTS).repeat(3);
        for (int i = 0; i < 3; i++) {
            ObjectNode body = JSON.createObjectNode().put("max_tokens", 2).put("temperature", 0);
            var messages = body.putArray("messages");
            messages.addObject().put("role", "system").put("content", system);
            messages.addObject().put("role", "user").put("content", PROMPTS[i]);
            ObjectNode line = JSON.createObjectNode().put("custom_id", "c" + i).put("url", "/v1/chat/completions");
            line.set("body", body);
            in.append(line).append('\n');
        }
        Path input = Files.writeString(dir.resolve("in.jsonl"), in);
        String summary = RgRun.stderr("batch", "--model", AUSTEN.toString(), "--backend", "reference", "-i", input.toString(), "-o",
                dir.resolve("out.jsonl").toString());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("prompt (\\d+) tokens \\((\\d+) cached\\)").matcher(summary);
        assertTrue(m.find(), summary);
        long shared = 0;
        for (String row : Files.readAllLines(dir.resolve("out.jsonl"))) {
            shared += JSON.readTree(row).at("/response/body/usage/prompt_tokens_details/cached_tokens").asLong();
        }
        assertTrue(shared > 100, "two of three resumed the system message: " + shared);
        assertEquals(shared, Long.parseLong(m.group(2)), summary);
    }

    @Test
    void optionsThatTheBodiesSetAreRefused(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), requests(1));
        for (List<String> option : List.of(List.of("--temperature", "1"), List.of("--chat"), List.of("-n", "4"),
                List.of("--stop", "x"))) {
            List<String> args = new ArrayList<>(List.of("batch", "-i", input.toString()));
            args.addAll(option);
            assertEquals("rg: error: " + option.get(0) + " does not apply to OpenAI batch requests (line 1 of " + input + " is one):"
                    + " each request's body sets its own parameters", RgRun.stderr(args.toArray(String[]::new)));
        }
    }

    /** {@code n} completions requests, greedy, line {@code i} with {@code 1 + i} tokens; line 5 is not JSON. */
    private static String requests(int n) throws Exception {
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i == 4) {
                in.append("{oops\n");
                continue;
            }
            ObjectNode body = JSON.createObjectNode().put("model", "gpt-4o-mini").put("prompt", PROMPTS[i % PROMPTS.length])
                    .put("max_tokens", 1 + i).put("temperature", 0);
            ObjectNode line = JSON.createObjectNode().put("custom_id", "q" + i).put("method", "POST").put("url", "/v1/completions");
            line.set("body", body);
            in.append(JSON.writeValueAsString(line)).append('\n');
        }
        return in.toString();
    }

    private static List<JsonNode> withoutTimes(List<JsonNode> rows) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode r : rows) {
            ObjectNode copy = r.deepCopy();
            if (copy.at("/response/body").isObject()) {
                ((ObjectNode) copy.at("/response/body")).remove("created");
            }
            out.add(copy);
        }
        return out;
    }

    private static List<JsonNode> run(Path dir, Path input, String... options) throws Exception {
        return BatchRuns.run(dir, input, options);
    }
}
