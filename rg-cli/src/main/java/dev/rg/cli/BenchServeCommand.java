package dev.rg.cli;

import dev.rg.server.bench.LoadBenchmark;
import dev.rg.server.bench.LoadComparison;
import dev.rg.server.bench.LoadReport;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rg bench-serve}: load-tests an OpenAI-compatible server (rg serve or another). */
@Command(name = "bench-serve", mixinStandardHelpOptions = true,
        description = "Load-test an OpenAI-compatible server: concurrent streaming completions; prints output tokens/s,"
                + " requests/s and p50/p95/p99 time to first token and inter-token latency.")
final class BenchServeCommand implements Callable<Integer> {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", paramLabel = "URL", description = "Server base URL (default ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--model", paramLabel = "NAME", description = "Model name to request (default: the first of /v1/models).")
    String modelName;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Bearer token (also RG_API_KEY).")
    String apiKey;

    @Option(names = "--clients", defaultValue = "16", paramLabel = "C", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--requests", defaultValue = "64", paramLabel = "R", description = "Requests in total (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--prompt-tokens", defaultValue = "32", paramLabel = "P", description = "Prompt length, about (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--system-tokens", defaultValue = "0", paramLabel = "S",
            description = "Every request starts with the same system message of about S tokens (chat completions), as"
                    + " applications with fixed instructions send; the report gives the prompt tokens the server resumed from"
                    + " its cache (default 0: text completions).")
    int systemTokens;

    @Option(names = "--max-tokens", defaultValue = "64", paramLabel = "N", description = "Tokens generated per request (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS", description = "Per-request timeout (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--warmup-seconds", defaultValue = "20", paramLabel = "S",
            description = "Send unmeasured requests (short ones, by every client) for S seconds first, so the measured"
                    + " ones find the server's code compiled for this load; with --baseline-clients, both client counts"
                    + " warm up before either is measured (default ${DEFAULT-VALUE}; 0 = none).")
    int warmupSeconds;

    @Option(names = "--baseline-clients", defaultValue = "0", paramLabel = "B",
            description = "Also measure B clients first (e.g. 1) and print the run's throughput and inter-token latency"
                    + " as ratios to theirs.")
    int baselineClients;

    @Option(names = "--baseline-requests", defaultValue = "0", paramLabel = "R",
            description = "Requests of the baseline (default: the run's requests per client x B, at least 2).")
    int baselineRequests;

    @Option(names = "--request-rate", defaultValue = "0", paramLabel = "R",
            description = "Send the measured requests as a Poisson process of R per second (fixed seed), at most --clients"
                    + " at a time, so they arrive while others decode (default ${DEFAULT-VALUE}: each client sends its next"
                    + " request when its last one ended). The baseline keeps the closed loop.")
    double requestRate;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        String key = apiKey != null ? apiKey : System.getenv("RG_API_KEY");
        if (timeoutSeconds < 1) {
            throw new IllegalArgumentException("--timeout must be >= 1 second, got " + timeoutSeconds);
        }
        if (baselineClients < 0 || baselineRequests < 0) {
            throw new IllegalArgumentException("--baseline-clients and --baseline-requests must be >= 0");
        }
        if (baselineRequests > 0 && baselineClients == 0) {
            throw new IllegalArgumentException("--baseline-requests needs --baseline-clients");
        }
        String result;
        if (baselineClients > 0) {
            int r0 = baselineRequests > 0 ? baselineRequests
                    : Math.max(2, (int) Math.ceil((double) requests * baselineClients / Math.max(1, clients)));
            LoadBenchmark baseBench = bench(baselineClients, r0, key, 0);
            LoadBenchmark runBench = bench(clients, requests, key, requestRate);
            // both warm up before either is measured: the run's load compiles code the baseline's uses too
            baseBench.warmUp();
            runBench.warmUp();
            LoadReport base = baseBench.measure();
            LoadReport run = runBench.measure();
            LoadComparison c = new LoadComparison(base, run);
            result = json ? c.json() : c.table();
            noteResent(baseBench.resent() + runBench.resent());
        } else {
            LoadBenchmark b = bench(clients, requests, key, requestRate);
            LoadReport r = b.run();
            result = json ? r.json() : r.table();
            noteResent(b.resent());
        }
        Output.out().print(json ? result + System.lineSeparator() : result);
        Output.out().flush();
        return 0;
    }

    /** Says on stderr how many requests had to be sent twice (see {@link LoadBenchmark#resent}), when any did. */
    private static void noteResent(int n) {
        if (n > 0) {
            System.err.println("rg bench-serve: " + n + " request" + (n == 1 ? " was" : "s were") + " sent again on another"
                    + " connection: the first attempt's connection closed before any response");
        }
    }

    private LoadBenchmark bench(int c, int r, String key, double rate) {
        return new LoadBenchmark(new LoadBenchmark.Settings(url, modelName, key, c, r, promptTokens, maxTokens,
                Duration.ofSeconds(timeoutSeconds), Duration.ofSeconds(warmupSeconds), rate, systemTokens));
    }
}
