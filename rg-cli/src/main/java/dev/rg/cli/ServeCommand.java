package dev.rg.cli;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.LoadProgress;
import dev.rg.server.RgServer;
import dev.rg.server.ServerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rg serve}: OpenAI's API over HTTP with continuous batching (the rg-server module). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the model over HTTP with OpenAI's API: POST /v1/chat/completions, /v1/completions and /v1/responses (streaming"
                + " or not), GET /v1/models, /health, /metrics (Prometheus) and a chat page at /; OpenAI's Files and Batch"
                + " APIs (/v1/files, /v1/batches) run batches in the slots clients leave free.",
                "Concurrent requests are decoded together (continuous batching); finished conversations keep their state"
                        + " so that the next turn prefills only its new tokens."})
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--preset", paramLabel = "2b|9b|tiny",
            description = "Serve seeded random weights of these shapes instead of a checkpoint (load tests at a real model's size,"
                    + " no download): the vocabulary is cut to the tokenizer of --model (default: the embedded model's). Output is"
                    + " gibberish; --format sets the linear layers' format (default bf16).")
    String preset;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to bind (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "N", description = "TCP port (default ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--max-sequences", defaultValue = "16", paramLabel = "N",
            description = "Sequences generated at once (default ${DEFAULT-VALUE}); more requests wait in the queue.")
    int maxSequences;

    @Option(names = "--max-queue", defaultValue = "64", paramLabel = "N",
            description = "Requests that may wait for a slot (default ${DEFAULT-VALUE}); beyond, 429.")
    int maxQueue;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on /v1/* (also RG_API_KEY). Default: no authentication.")
    String apiKey;

    @Option(names = "--state-cache-mb", defaultValue = "256", paramLabel = "MB",
            description = "Memory for kept conversation states, least recently used out (default ${DEFAULT-VALUE}; 0 = off).")
    long stateCacheMb;

    @Option(names = "--state-cache-dir", paramLabel = "DIR",
            description = "Keep the state cache in DIR: new entries written while the server is idle and the rest when it"
                    + " stops (Ctrl-C, SIGTERM), read when it starts, so conversations resume after a restart (or a crash)"
                    + " without prefilling their history again. Created if missing.")
    Path stateCacheDir;

    @Option(names = "--max-prompt-tokens", defaultValue = "65536", paramLabel = "N",
            description = "Longest prompt accepted (default ${DEFAULT-VALUE}); longer ones get 413.")
    int maxPromptTokens;

    @Option(names = "--max-body-mb", defaultValue = "8", paramLabel = "MB", description = "Largest request body (default ${DEFAULT-VALUE}); larger ones get 413.")
    int maxBodyMb;

    @Option(names = "--prefill-chunk", defaultValue = "256", paramLabel = "N",
            description = "Most prompt tokens (all prompts of a prefill round together) prefilled between two decode"
                    + " steps (default ${DEFAULT-VALUE}; while sequences decode, at most max(16, 2 x their number)).")
    int prefillChunk;

    @Option(names = "--step-prefill", defaultValue = "0", paramLabel = "N",
            description = "While sequences decode, feed a prompt with at most N tokens left to prefill through the decode"
                    + " steps, one token per step, instead of a prefill round between two steps: the others' inter-token"
                    + " gaps stay one step long, its first token comes N steps later (default ${DEFAULT-VALUE} = never).")
    int stepPrefill;

    @Option(names = "--shared-passes", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "While sequences decode, run the next prefill round and the decode step as one forward pass, so"
                    + " the weights are read once for both (default); --no-shared-passes runs them as two passes.")
    boolean sharedPasses;

    @Option(names = "--files-dir", paramLabel = "DIR",
            description = "Keep the files of /v1/files (batch inputs and outputs) and the batches of /v1/batches in DIR, so"
                    + " they outlast a restart (a batch that had not ended runs again from its start). Default: a temporary"
                    + " directory, removed when the server stops. Created if missing.")
    Path filesDir;

    @Option(names = "--files-mb", defaultValue = "1024", paramLabel = "MB",
            description = "Most megabytes of files kept together (default ${DEFAULT-VALUE}); an upload beyond gets 413.")
    long filesMb;

    @Option(names = "--batch-sequences", defaultValue = "0", paramLabel = "N",
            description = "Most sequences a batch of /v1/batches runs at once, only in slots no client's request waits for"
                    + " (default ${DEFAULT-VALUE} = half of --max-sequences, at least 1).")
    int batchSequences;

    @Option(names = "--batch-when-idle",
            description = "A batch of /v1/batches starts requests only while no client's request runs or waits, so clients"
                    + " never share a decode step with batch requests started after them (the batch then waits out busy"
                    + " periods). Default: it also runs beside clients, in the slots they leave free.")
    boolean batchWhenIdle;

    @Option(names = "--cors-origins", split = ",", paramLabel = "ORIGIN",
            description = "Let browser pages of these origins call the API (CORS), e.g. http://localhost:3000, or * for any"
                    + " (then better with --api-key: any web page the user opens could use the model). Default: none, only"
                    + " the chat page served here.")
    java.util.List<String> corsOrigins = new java.util.ArrayList<>();

    @Option(names = "--model-name", paramLabel = "NAME", description = "The model name clients use (default: the model directory's name).")
    String modelName;

    /**
     * A warning when the state cache may take more than half of the JVM heap: the cache lives on the heap, and a full
     * cache next to the batch's activations would end in an OutOfMemoryError under load rather than at start-up.
     */
    static Optional<String> heapWarning(long stateCacheBytes, long maxHeapBytes) {
        if (maxHeapBytes == Long.MAX_VALUE || stateCacheBytes <= maxHeapBytes / 2) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "rg: warning: --state-cache-mb %d is more than half of the JVM heap (%d MB);"
                + " give the JVM more (RG_JAVA_OPTS=-Xmx...) or the cache less", stateCacheBytes >> 20, maxHeapBytes >> 20));
    }

    /** Creates the directory an option names (when given), or fails with one line naming the option. */
    private static void createDirectory(String option, Path dir) {
        if (dir == null) {
            return;
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + ": " + dir + " is not a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException(option + ": cannot create " + dir + ": " + dev.rg.core.io.IoReasons.of(e), e);
        }
    }

    @Override
    public Integer call() {
        Path dir = model.modelDir();
        String key = apiKey != null ? apiKey : System.getenv("RG_API_KEY");
        if (maxBodyMb < 1 || maxBodyMb > 1024) {
            throw new IllegalArgumentException("--max-body-mb must be in [1, 1024], got " + maxBodyMb);
        }
        if (stateCacheMb < 0 || stateCacheMb > (1L << 30)) {
            throw new IllegalArgumentException("--state-cache-mb must be >= 0, got " + stateCacheMb);
        }
        createDirectory("--state-cache-dir", stateCacheDir);
        if (filesMb < 0 || filesMb > (1L << 30)) {
            throw new IllegalArgumentException("--files-mb must be >= 0, got " + filesMb);
        }
        createDirectory("--files-dir", filesDir);
        String name = modelName != null ? modelName : preset != null ? "preset-" + preset : dir.getFileName().toString();
        ServerOptions options = new ServerOptions(host, port, name, maxSequences, maxQueue, key == null || key.isEmpty() ? null : key,
                stateCacheMb << 20, maxPromptTokens, (long) maxBodyMb << 20, prefillChunk, stepPrefill, sharedPasses, stateCacheDir,
                filesDir, filesMb << 20, batchSequences, batchWhenIdle, corsOrigins);
        var load = model.loadOptions();
        RgServer server;
        try {
            // the backend's warnings (no SIMD intrinsics, bf16 matrices left row-major for lack of memory) once the
            // model is loaded, before "ready": as the other commands print them before their work starts
            server = RgServer.start(options, () -> {
                RecurrentGemma rg = preset == null ? RecurrentGemma.load(dir, load, LoadProgress.NONE)
                        : model.loadPreset(preset, LoadProgress.NONE);
                Warnings.print(rg.model());
                return rg;
            });
        } catch (RgServer.FilesUnreadable e) {
            throw e; // the message names --files-dir
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot listen on " + host + ":" + port + ": " + Errors.describe(e), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            server.keptStates().ifPresent(line -> System.err.println("rg: " + line));
            stopped.countDown();
        }));
        heapWarning(stateCacheMb << 20, Runtime.getRuntime().maxMemory()).ifPresent(System.err::println);
        System.err.printf("rg: serving '%s' at http://%s:%d/ (OpenAI API under /v1%s); loading the model...%n", name, host,
                server.port(), options.apiKey() != null ? ", API key required" : "");
        try {
            server.awaitReady(Duration.ofHours(1));
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        server.restoredStates().ifPresent(line -> System.err.println("rg: " + line));
        System.err.println("rg: ready");
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
