package dev.rg.server;

import java.nio.file.Path;

/**
 * How {@code rg serve} runs.
 *
 * @param host             address to bind (127.0.0.1 by default: not reachable from other machines)
 * @param port             TCP port (0 = any free port)
 * @param modelId          the model name clients send in {@code "model"} (the model directory's name)
 * @param maxSequences     sequences generated at once (prefilling or decoding); more wait in the queue
 * @param maxQueue         requests allowed to wait; one more is refused with 429
 * @param apiKey           required as {@code Authorization: Bearer KEY} on /v1/*; null = no authentication
 * @param stateCacheBytes  memory for kept conversation states (0 = no state cache)
 * @param maxPromptTokens  longest prompt accepted (413 beyond)
 * @param maxBodyBytes     largest request body accepted (413 beyond)
 * @param prefillChunk     most prompt token-rows (all prompts of a round) prefilled between two decode steps (fewer
 *                         while sequences decode, see Scheduler)
 * @param stepPrefill      while sequences decode, a prompt with at most this many tokens left to prefill is fed through
 *                         the decode steps instead of prefill rounds between them (0 = never; see Scheduler)
 * @param sharedPasses     while sequences decode, a prefill round and the decode step run as one forward pass (one read
 *                         of the weights for both; see Scheduler); off runs them as two passes
 * @param stateCacheDir    where the state cache is kept while the server is down (saved at shutdown, loaded at start;
 *                         null = not kept)
 * @param filesDir         where the files of {@code /v1/files} and the batches of {@code /v1/batches} are kept (null = a
 *                         temporary directory, removed when the server stops)
 * @param filesBytes       most bytes of all those files together (uploads beyond get 413)
 * @param batchSequences   most sequences a batch of {@code /v1/batches} runs at once, in slots no client waits for (0 =
 *                         half of {@code maxSequences}, at least 1)
 * @param batchWhenIdle    a batch starts requests only while no client's request runs or waits
 * @param corsOrigins      origins whose browser pages may call the API (CORS; "*" = any); empty = none (same origin only)
 */
public record ServerOptions(String host, int port, String modelId, int maxSequences, int maxQueue, String apiKey,
        long stateCacheBytes, int maxPromptTokens, long maxBodyBytes, int prefillChunk,
        int stepPrefill, boolean sharedPasses, Path stateCacheDir, Path filesDir, long filesBytes, int batchSequences,
        boolean batchWhenIdle, java.util.List<String> corsOrigins) {
    public ServerOptions {
        corsOrigins = java.util.List.copyOf(corsOrigins);
        require(port >= 0 && port <= 65535, "--port must be in [0, 65535], got " + port);
        require(maxSequences >= 1 && maxSequences <= 4096, "--max-sequences must be in [1, 4096], got " + maxSequences);
        require(maxQueue >= 0 && maxQueue <= 1_000_000, "--max-queue must be in [0, 1000000], got " + maxQueue);
        require(stateCacheBytes >= 0, "--state-cache-mb must be >= 0, got " + stateCacheBytes);
        require(maxPromptTokens >= 1, "--max-prompt-tokens must be >= 1, got " + maxPromptTokens);
        require(maxBodyBytes >= 1024, "--max-body-mb must allow at least 1 KB, got " + maxBodyBytes + " bytes");
        require(prefillChunk >= 1 && prefillChunk <= 65536, "prefill chunk must be in [1, 65536], got " + prefillChunk);
        require(stepPrefill >= 0 && stepPrefill <= 65536, "--step-prefill must be in [0, 65536], got " + stepPrefill);
        require(apiKey == null || !apiKey.isBlank(), "--api-key must not be blank");
        require(host != null && !host.isBlank(), "--host must not be blank");
        for (String origin : corsOrigins) {
            require(origin.equals("*") || origin.matches("https?://[^/\\s,]+"), "--cors-origins takes * or origins such as"
                    + " http://localhost:3000 (scheme, host and port, no path), got '" + origin + "'");
        }
        require(filesBytes >= 0, "--files-mb must be >= 0, got " + filesBytes);
        require(batchSequences >= 0 && batchSequences <= maxSequences, "--batch-sequences must be in [0, --max-sequences "
                + maxSequences + "], got " + batchSequences);
        require(stateCacheDir == null || stateCacheBytes > 0, "--state-cache-dir needs a state cache (--state-cache-mb > 0)");
    }

    /**
     * Defaults for a model called {@code modelId}: 127.0.0.1:8080, 16 sequences, queue 64, 256 MB state cache, 1 GB of
     * files in a temporary directory.
     */
    public static ServerOptions defaults(String modelId) {
        return new ServerOptions("127.0.0.1", 8080, modelId, 16, 64, null, 256L << 20, 65536, 8L << 20, 256, 0, true, null, null, 1L << 30, 0, false, java.util.List.of());
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withHost(String h) {
        return new ServerOptions(h, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withLimits(int sequences, int queue) {
        return new ServerOptions(host, port, modelId, sequences, queue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, key, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withStateCacheBytes(long bytes) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, bytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withPromptLimits(int promptTokens, long bodyBytes) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, promptTokens, bodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withPrefillChunk(int tokens) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, tokens, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withStepPrefill(int tokens) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, tokens, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withSharedPasses(boolean on) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, on, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withStateCacheDir(Path dir) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, dir, filesDir, filesBytes, batchSequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withFiles(Path dir, long bytes, int sequences) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, dir, bytes, sequences, batchWhenIdle, corsOrigins);
    }

    public ServerOptions withBatchWhenIdle(boolean on) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, on, corsOrigins);
    }

    public ServerOptions withCorsOrigins(java.util.List<String> origins) {
        return new ServerOptions(host, port, modelId, maxSequences, maxQueue, apiKey, stateCacheBytes, maxPromptTokens, maxBodyBytes, prefillChunk, stepPrefill, sharedPasses, stateCacheDir, filesDir, filesBytes, batchSequences, batchWhenIdle, origins);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
