package dev.rg.cli;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import dev.rg.server.OpenAiBatch;
import dev.rg.server.ServerOptions;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rg batch}: generate for every prompt of a JSON Lines file, several sequences decoded together. */
@Command(name = "batch", mixinStandardHelpOptions = true,
        description = "Generate for every row of a JSON Lines file (a prompt string, or an object with a \"prompt\" string or"
                + " chat \"messages\"), up to --batch-size rows decoding together (continuous batching); one output line per"
                + " input row, in order, with completion, prompt_tokens, completion_tokens, finish_reason and error added. A"
                + " file of OpenAI Batch API requests (custom_id, url, body) is answered in OpenAI's batch output format.")
final class BatchCommand implements Callable<Integer> {
    /** Most sequences decoded together: each holds a state of the model's fixed size. */
    static final int MAX_BATCH = 4096;

    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--preset", paramLabel = "2b|9b|tiny",
            description = "Seeded random weights of these shapes instead of a checkpoint, behind the tokenizer of --model (default:"
                    + " the embedded model's): a real model's throughput without a download. The text is gibberish.")
    String preset;

    @Option(names = {"-i", "--input"}, required = true, paramLabel = "FILE", description = "JSON Lines prompts (- = stdin).")
    Path input;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "-",
            description = "Where the rows go (- = stdout, the default, each row as soon as it and the rows before it are"
                    + " done). A file is written as FILE.partial, flushed as rows are written, and renamed to FILE when the job"
                    + " is complete (see --resume); a device or pipe (/dev/null) is written as a stream, like stdout.")
    Path output;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", defaultValue = "8",
            description = "Rows decoded together (one pass over the weights per step for all of them); a row that ends"
                    + " gives its slot to the next. Default 8.")
    int batchSize;

    @Option(names = "--chat", description = "Wrap each prompt in the Gemma chat template (for -it models).")
    boolean chat;

    @Option(names = "--max-prompt-tokens", paramLabel = "N", defaultValue = "4096",
            description = "Rows whose prompt has more tokens (BOS included) get an error instead. Default 4096.")
    int maxPromptTokens;

    @Option(names = "--key", paramLabel = "FIELD", defaultValue = "id",
            description = "The field whose value seeds a row's sampling (default id; without it, the prompt): the same key"
                    + " and --seed give the same text whatever the batch size or the row's place, as in rg-spark.")
    String keyField;

    @Option(names = "--prompt-prefix", paramLabel = "TEXT",
            description = "Every row's prompt continues TEXT (an instruction, worked examples): it is processed once and each"
                    + " row starts from a copy of its state, so a row costs only its own tokens (as rg-spark's prompt_prefix)."
                    + " The prompt is BOS, TEXT's tokens, then the row's, each tokenized on its own: end TEXT with a newline.")
    String promptPrefix;

    @Option(names = "--prompt-prefix-file", paramLabel = "FILE",
            description = "--prompt-prefix read from FILE (UTF-8, as it is: a final line break is kept).")
    Path promptPrefixFile;

    @Option(names = "--resume", description = "With -o FILE: keep the rows in FILE.partial that an earlier run of the same"
            + " input finished before it stopped, and carry on after them.")
    boolean resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        GenerationConfig config = sampling.config(); // bad options are refused before the model loads
        if (batchSize < 1 || batchSize > MAX_BATCH) {
            throw new IllegalArgumentException("--batch-size must be in [1, " + MAX_BATCH + "], got " + batchSize);
        }
        if (maxPromptTokens < 1) {
            throw new IllegalArgumentException("--max-prompt-tokens must be at least 1, got " + maxPromptTokens);
        }
        boolean toStdout = output.toString().equals("-");
        // a device or a pipe (-o /dev/null, -o >(gzip > rows.gz)) is written as a stream, like stdout: it cannot be renamed
        boolean toStream = !toStdout && Files.exists(output) && !Files.isRegularFile(output) && !Files.isDirectory(output);
        if ((toStdout || toStream) && resume) {
            throw new IllegalArgumentException("--resume needs -o FILE, a file: it carries on with FILE.partial");
        }
        if (!toStdout && !toStream) {
            StateFileOption.requireUsable(output, "--output");
        }
        String prefix = promptPrefix();
        boolean fromStdin = input.toString().equals("-");
        if (!fromStdin) {
            requireReadable(input);
        }
        // the total only serves the progress line: a file is not read an extra time when no terminal shows it
        long total = fromStdin || !RowProgress.shown() || !Files.isRegularFile(input) ? -1 : countRows(input);
        try (InputStream in = open(input); PartialOutput file = toStdout || toStream ? null : PartialOutput.open(output, resume);
                PrintStream stream = toStream ? new PrintStream(Files.newOutputStream(output), false, StandardCharsets.UTF_8) : null) {
            JsonlLines lines = new JsonlLines(in, fromStdin ? "standard input" : input.toString());
            JsonlLines.Line first = lines.peek();
            boolean openAi = first != null && first.text() != null && OpenAiBatch.isBatchRequest(first.text());
            if (openAi) {
                refuseRowOptions();
            }
            try (RecurrentGemma rg = preset == null ? model.load() : loadPreset(); OpenAiBatch api = openAi ? startApi(rg) : null) {
                run(rg, openAi ? new OpenAiBatchJob(api, batchSize) : new BatchJob(rg, config, batchSize, maxPromptTokens, chat,
                        keyField, prefix), lines, file, stream, total);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("--input " + input + ": cannot read: " + dev.rg.core.io.IoReasons.of(e), e);
        }
        return 0;
    }

    /**
     * Runs {@code job} over {@code lines} into {@code file}, or into {@code stream} or stdout when it is null, then prints
     * the summary line.
     */
    private void run(RecurrentGemma rg, RowJob job, JsonlLines lines, PartialOutput file, PrintStream stream, long total)
            throws IOException {
        Warnings.print(rg.model());
        long kept = file == null ? 0 : file.kept();
        if (kept > 0) {
            skipKept(job, lines, file);
        }
        // Ctrl-C or a kill: the rows so far are in the partial file, and the user should hear where
        Thread onStop = file == null ? null : new Thread(file::reportStop, "rg-batch-stop");
        if (onStop != null) {
            Runtime.getRuntime().addShutdownHook(onStop);
        }
        long start = System.nanoTime();
        RowJob.Totals totals;
        try (RowProgress progress = new RowProgress(total < 0 ? -1 : total - kept)) {
            if (file == null) {
                RowJob.Sink sink = stream == null ? line -> Output.write(line + "\n") : line -> {
                    stream.print(line + "\n");
                    return !stream.checkError();
                };
                totals = job.run(lines, sink, done -> {
                    if (stream != null) {
                        stream.flush();
                    }
                    progress.update(done);
                });
            } else {
                totals = job.run(lines, file::write, done -> {
                    file.flush(); // written rows reach the file at once: a stop loses only rows still running or waiting
                    progress.update(done);
                });
                file.complete();
            }
        } catch (RuntimeException | Error e) {
            if (file != null) {
                file.reportStop();
            }
            throw e;
        } finally {
            if (onStop != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(onStop);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or has run
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.err.println(summary(rg, totals, kept, seconds));
    }

    /**
     * The in-process API for OpenAI batch requests: {@code rg serve}'s scheduler with --batch-size sequences (and as
     * many waiting, so a request never waits on a slot the scheduler has not freed yet), a state cache for prompts that
     * share a beginning (an eighth of the heap, at most 256 MB) and --max-prompt-tokens.
     */
    private OpenAiBatch startApi(RecurrentGemma rg) {
        String name = preset != null ? "preset-" + preset : rg.model().dir().getFileName().toString();
        long cache = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8);
        ServerOptions options = ServerOptions.defaults(name).withLimits(batchSize, batchSize).withStateCacheBytes(cache)
                .withPromptLimits(maxPromptTokens, ServerOptions.defaults(name).maxBodyBytes());
        return OpenAiBatch.start(rg.model(), rg.tokenizer(), options, sampling.config().sampling().seed());
    }

    /**
     * OpenAI batch requests carry their own parameters in their bodies, so options that set them for prompt rows would
     * be ignored: refuse them rather than let a user think they applied.
     */
    private void refuseRowOptions() {
        var parsed = spec.commandLine().getParseResult();
        for (String name : List.of("--chat", "--key", "-n", "--temperature", "--top-k", "--top-p", "--min-p",
                "--repetition-penalty", "--stop", "--ignore-eos", "--json", "--prompt-prefix", "--prompt-prefix-file")) {
            if (parsed.hasMatchedOption(name)) {
                throw new IllegalArgumentException(name + " does not apply to OpenAI batch requests (line 1 of " + input
                        + " is one): each request's body sets its own parameters");
            }
        }
    }

    /** The prompt prefix of --prompt-prefix or --prompt-prefix-file, or null; refused with --chat and when empty. */
    private String promptPrefix() {
        if (promptPrefix != null && promptPrefixFile != null) {
            throw new IllegalArgumentException("give --prompt-prefix or --prompt-prefix-file, not both");
        }
        if (promptPrefixFile != null && promptPrefixFile.toString().equals("-") && input.toString().equals("-")) {
            throw new IllegalArgumentException("--prompt-prefix-file - and --input - cannot both read standard input");
        }
        String text = promptPrefixFile != null ? PromptFile.readExactly(promptPrefixFile, System.in, "--prompt-prefix-file")
                : promptPrefix;
        if (text == null) {
            return null;
        }
        String option = promptPrefixFile != null ? "--prompt-prefix-file" : "--prompt-prefix";
        if (chat) {
            throw new IllegalArgumentException(option + " cannot be combined with --chat: the chat template wraps each row's"
                    + " prompt; for instructions shared by chats, give them as a system message in OpenAI batch requests");
        }
        return Prompts.clean(text, option);
    }

    /** {@code --resume}: the input's first rows must be those the kept rows were made from; they are skipped. */
    private static void skipKept(RowJob job, JsonlLines lines, PartialOutput file) throws IOException {
        try (InputStream keptIn = file.readKept()) {
            JsonlLines keptRows = new JsonlLines(keptIn, file.partial().toString());
            for (long i = 1; i <= file.kept(); i++) {
                JsonlLines.Line line = lines.next();
                if (line == null) {
                    throw new IllegalArgumentException("--resume: " + file.partial() + " holds " + file.kept() + " rows, but the"
                            + " input has only " + (i - 1) + "; was the input changed? Delete it to start again");
                }
                JsonlLines.Line kept = keptRows.next();
                if (kept == null || kept.text() == null || !job.produced(line, kept.text())) {
                    throw new IllegalArgumentException("--resume: row " + i + " of " + file.partial() + " was not made from line "
                            + line.number() + " of the input; was the input changed? Delete it to start again");
                }
            }
        }
    }

    private RecurrentGemma loadPreset() {
        try (TerminalProgress progress = new TerminalProgress("building preset " + preset)) {
            return model.loadPreset(preset, progress);
        }
    }

    private String summary(RecurrentGemma rg, RowJob.Totals t, long resumed, double seconds) {
        return String.format(Locale.ROOT, "[%d row%s%s, %d with errors%s | prompt %d tokens%s | generated %d tokens | %.1f s: %.2f rows/s,"
                        + " %.1f tok/s | %s | backend %s | batch %d]", t.rows(), t.rows() == 1 ? "" : "s", resumed > 0 ? " (after " + resumed + " resumed)" : "",
                t.errors(), t.stopped() ? ", output closed" : "",
                t.promptTokens(), t.cachedTokens() > 0 ? " (" + t.cachedTokens() + " cached)" : "", t.completionTokens(), seconds, t.rows() / seconds, t.completionTokens() / seconds,
                preset != null ? "preset " + preset : rg.model().dir().getFileName(), rg.model().backend().name(), batchSize);
    }

    /** Before the model loads: the input is there and is not a directory (a pipe is fine). */
    private static void requireReadable(Path input) {
        if (!Files.exists(input)) {
            throw new IllegalArgumentException("--input: no such file: " + input);
        }
        if (Files.isDirectory(input)) {
            throw new IllegalArgumentException("--input: " + input + " is a directory, not a file");
        }
    }

    private static InputStream open(Path input) throws IOException {
        if (input.toString().equals("-")) {
            return System.in;
        }
        try {
            return Files.newInputStream(input);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--input: no such file: " + input); // removed while the model loaded
        }
    }

    /** The rows of a regular file, for the progress line. */
    private static long countRows(Path input) {
        try (InputStream in = Files.newInputStream(input)) {
            JsonlLines lines = new JsonlLines(in, input.toString());
            long n = 0;
            while (lines.next() != null) {
                n++;
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException("--input " + input + ": cannot read: " + dev.rg.core.io.IoReasons.of(e), e);
        }
    }
}
