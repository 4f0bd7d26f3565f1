package dev.rg.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import org.junit.jupiter.api.io.TempDir;

/** The commands end to end, in process (the launcher itself is exercised by .ci/run). */
class CliTest {
    private static final Path SHARED = Path.of(System.getProperty("rg.shared", "../../shared")).toAbsolutePath().normalize();
    private static final String AUSTEN = SHARED.resolve("models/austen-6m").toString();

    /** Runs rg, capturing stderr; stdout goes to the real stdout (the commands write there directly). */
    private static int rg(ByteArrayOutputStream err, String... args) {
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return Main.run(args);
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void forwardWritesLogitsThatMatchTheFixture(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("f.json");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = rg(err, "forward", "--model", SHARED.resolve("fixtures/model/tiny-f32").toString(), "--backend", "reference",
                "--ids", "2,17,300,41", "--generate", "3", "--out", out.toString());
        assertEquals(0, code, err.toString());
        JsonNode j = new ObjectMapper().readTree(out.toFile());
        assertEquals(4, j.get("prefill_logits").size());
        assertEquals(512, j.get("prefill_logits").get(0).size());
        assertEquals(3, j.get("decode_logits").size());
        assertEquals(3, j.get("generated_ids").size());
    }

    @Test
    void aMistypedCommandLineIsOneLineWithSuggestionsNotTheWholeUsage() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, rg(err, "generate", "--prompt", "x", "--temperature", "nan"));
        assertEquals("rg: error: Invalid value for option '--temperature': 'nan' is not a float; see 'rg generate --help'",
                err.toString().strip());
        err.reset();
        assertEquals(2, rg(err, "chat", "--temprature", "1"));
        String line = err.toString().strip();
        assertTrue(line.startsWith("rg: error: Unknown options: '--temprature'") && line.contains("did you mean --temperature?")
                && line.endsWith("see 'rg chat --help'") && line.lines().count() == 1, line);
        err.reset();
        assertEquals(2, rg(err, "generate"));
        assertEquals("rg: error: Missing required argument (specify one of these): (-p=TEXT | -f=FILE); see 'rg generate --help'",
                err.toString().strip());
        err.reset();
        assertEquals(2, rg(err, "genrate", "--prompt", "x"));
        line = err.toString().strip();
        assertTrue(line.contains("did you mean generate") && line.endsWith("see 'rg --help'") && !line.contains("Usage:"), line);
    }

    @Test
    void badInputGivesAOneLineErrorAndExitCode2() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, rg(err, "generate", "--model", AUSTEN, "--backend", "reference", "--prompt", ""));
        assertTrue(err.toString().startsWith("rg: error: --prompt is empty"), err.toString());
        err.reset();
        assertEquals(2, rg(err, "generate", "--model", AUSTEN, "--backend", "reference", "--prompt", "Hi", "--temperature", "-1"));
        assertTrue(err.toString().contains("temperature must be"), err.toString());
        err.reset();
        assertEquals(2, rg(err, "generate", "--model", "/nonexistent/dir", "--prompt", "Hi"));
        assertTrue(err.toString().contains("/nonexistent/dir"), err.toString());
        err.reset();
        assertEquals(2, rg(err, "generate", "--model", AUSTEN, "--backend", "warp-drive", "--prompt", "Hi"));
        assertTrue(err.toString().contains("unknown backend 'warp-drive'"), err.toString());
        err.reset();
        assertEquals(2, rg(err, "forward", "--model", AUSTEN, "--backend", "reference", "--ids", "2,99999", "--out", "/tmp/x.json"));
        assertTrue(err.toString().contains("99999"), err.toString());
        // sampling options are checked before the model loads (and before generate echoes the prompt): on a model
        // directory that does not exist, the bad option is what is reported
        err.reset();
        assertEquals(2, rg(err, "generate", "--model", "/nonexistent/dir", "--prompt", "Hi", "-n", "-1"));
        assertTrue(err.toString().startsWith("rg: error: --max-tokens must be in [1, "), err.toString());
        err.reset();
        assertEquals(2, rg(err, "chat", "--model", "/nonexistent/dir", "--top-p", "2"));
        assertTrue(err.toString().startsWith("rg: error: top-p must be in (0, 1]"), err.toString());
        err.reset();
        assertEquals(2, rg(err, "generate", "--model", "/nonexistent/dir", "--prompt", "Hi", "--stop", ""));
        assertTrue(err.toString().startsWith("rg: error: --stop must not be empty"), err.toString());
    }

    /**
     * {@code --backend-option KEY=VALUE} goes into the load options of every command that loads a model (and from there
     * into the backend's {@code BackendOptions}); malformed ones are one-line errors naming the option.
     */
    @Test
    void backendOptionsGoIntoTheLoadOptions() {
        GenerateCommand g = new GenerateCommand();
        new CommandLine(g).parseArgs("--backend-option", "device=1", "--backend-option", "graphs=on", "--prompt", "x");
        assertEquals(Map.of("device", "1", "graphs", "on"), g.model.loadOptions().settings());
        for (Object command : new Object[] {new BenchCommand(), new CheckCommand(), new QualityCommand()}) {
            new CommandLine(command).parseArgs("--backend-option", "fused-norms=off");
            BackendSettingsOption o = switch (command) {
                case BenchCommand c -> c.backendSettings;
                case CheckCommand c -> c.backendSettings;
                case QualityCommand c -> c.backendSettings;
                default -> throw new AssertionError(command);
            };
            assertEquals(Map.of("fused-norms", "off"), o.settings(), command.getClass().getSimpleName());
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, rg(err, "generate", "--model", AUSTEN, "--backend-option", "device", "--prompt", "Hi"));
        assertTrue(err.toString().contains("--backend-option"), err.toString());
        err.reset();
        assertEquals(2, rg(err, "generate", "--model", AUSTEN, "--backend-option", "=5", "--prompt", "Hi"));
        assertTrue(err.toString().startsWith("rg: error: --backend-option needs KEY=VALUE with a key"), err.toString());
        err.reset();
        assertEquals(0, rg(err, "generate", "--model", AUSTEN, "--backend", "reference", "--backend-option", "spin-us=0",
                "--prompt", "Hi", "--max-tokens", "2"), err.toString()); // a key the backend does not use is ignored
    }

    /** Every command that runs a model loads it through the façade, so a tokenizer larger than the vocabulary is refused. */
    @Test
    void everyModelCommandChecksTheTokenizerAgainstTheVocabulary(@TempDir Path tmp) throws Exception {
        Path tiny = SHARED.resolve("fixtures/model/tiny-f32");
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            java.nio.file.Files.copy(tiny.resolve(f), tmp.resolve(f));
        }
        // austen-6m's tokenizer has 4096 pieces; the tiny model only 512 embeddings
        java.nio.file.Files.copy(Path.of(AUSTEN).resolve("tokenizer.model"), tmp.resolve("tokenizer.model"));
        String dir = tmp.toString();
        String[][] commands = {
            {"generate", "--model", dir, "--backend", "reference", "--prompt", "Hi", "--max-tokens", "2"},
            {"chat", "--model", dir, "--backend", "reference"},
            {"forward", "--model", dir, "--backend", "reference", "--ids", "2,17", "--out", tmp.resolve("f.json").toString()},
            {"quality", "--model", dir, "--backend", "reference", "--ids", "2,17", "--formats", "f32"},
            {"bench", "--model", dir, "--backend", "reference", "-p", "2", "-n", "1", "-r", "1", "--probe-mb", "1"},
        };
        for (String[] c : commands) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(2, rg(err, c), c[0] + ": " + err);
            assertTrue(err.toString().contains("the tokenizer has 4096 pieces but the model only 512 embeddings"), c[0] + ": " + err);
        }
    }

    /** {@code rg bench --beside-prefill N}: decode measured with a prompt chunk beside every step, in one pass and in two. */
    @Test
    void benchBesidePrefillMeasuresOnePassAndTwo() {
        try (dev.rg.core.model.Model m = dev.rg.core.model.Model.load(SHARED.resolve("fixtures/model/tiny-f32"),
                dev.rg.core.model.LoadOptions.defaults().withBackend("reference"))) {
            EndToEndBenchmark.Result r = new EndToEndBenchmark(m, 0, 0, 0).run(0, 2, 2, 3, 2, () -> { });
            assertTrue(r.decode().median() > 0 && r.decodeApart().median() > 0, r.toString());
            assertEquals(2, r.decodeApart().samples().length);
            assertEquals(null, new EndToEndBenchmark(m, 0, 0, 0).run(0, 2, 2, 0, 1, () -> { }).decodeApart(), "nothing beside");
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, rg(err, "bench", "--preset", "tiny", "-p", "0", "-n", "2", "-b", "2", "--beside-prefill", "255"));
        assertTrue(err.toString().startsWith("rg: error: --beside-prefill must be >= 0, needs -n > 0, and --batch + --beside-prefill"
                + " must be at most 256 token-rows; got 255 beside a batch of 2"), err.toString());
    }

    /** {@code rg bench --top-k K}: decode samples every row's token from the backend's top k; K is checked against the vocabulary. */
    @Test
    void benchTopKSamplesDecodedTokens() {
        try (dev.rg.core.model.Model m = dev.rg.core.model.Model.load(SHARED.resolve("fixtures/model/tiny-f32"),
                dev.rg.core.model.LoadOptions.defaults().withBackend("reference"))) {
            EndToEndBenchmark.Result r = new EndToEndBenchmark(m, 5, 0, 0).run(0, 3, 2, 0, 1, () -> { });
            assertTrue(r.decode().median() > 0, r.toString());
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, rg(err, "bench", "--preset", "tiny", "-p", "0", "-n", "2", "--top-k", "100000", "--probe-mb", "1"));
        assertTrue(err.toString().startsWith("rg: error: --top-k must be in 0.."), err.toString());
        assertTrue(err.toString().contains("got 100000"), err.toString());
        ByteArrayOutputStream negative = new ByteArrayOutputStream();
        assertEquals(2, rg(negative, "bench", "--preset", "tiny", "-p", "0", "-n", "2", "--top-k", "-1"));
        assertEquals("rg: error: --top-k must be 0 (greedy) or a positive number of tokens, got -1",
                negative.toString().strip().lines().reduce((a, b) -> b).orElse(""), negative.toString());
    }

    @Test
    void lonelySurrogatesAreReplacedNotCrashing() {
        assertEquals("a\uFFFDb", Prompts.clean("a\uD800b", "--prompt"));
        assertEquals("\uD83D\uDE00", Prompts.clean("\uD83D\uDE00", "--prompt"));
        assertEquals("x\uFFFD", Prompts.clean("x\uDC00", "--prompt"));
    }
}
