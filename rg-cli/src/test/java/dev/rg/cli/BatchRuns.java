package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the {@code rg batch} tests share: the embedded model, prompts, and a job run into {@code out.jsonl}. */
final class BatchRuns {
    static final Path AUSTEN = Path.of(System.getProperty("rg.shared", "../../shared")).resolve("models/austen-6m")
            .toAbsolutePath().normalize();
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] PROMPTS = {"It is a truth universally acknowledged", "Emma Woodhouse, handsome, clever",
        "Mr. Darcy", "The family of Dashwood had long been settled in Sussex", "She was"};

    private BatchRuns() {}

    /**
     * Runs {@code rg batch} on the embedded model (reference backend) from {@code input} into {@code dir/out.jsonl} with
     * {@code options}; asserts it printed its summary line and returns the rows written.
     */
    static List<JsonNode> run(Path dir, Path input, String... options) throws Exception {
        Path out = dir.resolve("out.jsonl");
        List<String> args = new ArrayList<>(List.of("batch", "--model", AUSTEN.toString(), "--backend", "reference", "-i",
                input.toString(), "-o", out.toString()));
        args.addAll(List.of(options));
        String err = RgRun.stderr(args.toArray(String[]::new));
        assertTrue(err.startsWith("["), err);
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            rows.add(JSON.readTree(line));
        }
        return rows;
    }
}
