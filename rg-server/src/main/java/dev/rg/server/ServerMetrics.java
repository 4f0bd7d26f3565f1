package dev.rg.server;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The server's Prometheus metrics (prometheus-metrics), written in the Prometheus text format at /metrics. */
final class ServerMetrics {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    private static final double[] LATENCY_BOUNDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    private static final double[] BATCH_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("rg_requests_total")
            .help("HTTP requests to the API by endpoint and status").labelNames("endpoint", "status").register(registry);
    private final Counter promptTokens = Counter.builder().name("rg_prompt_tokens_total")
            .help("Prompt tokens of admitted requests (cached ones included)").register(registry);
    private final Counter cachedTokens = Counter.builder().name("rg_prompt_tokens_cached_total")
            .help("Prompt tokens not prefilled because a kept state covered them").register(registry);
    private final Counter completionTokens = Counter.builder().name("rg_completion_tokens_total")
            .help("Generated tokens").register(registry);
    private final Counter stepPrefillTokens = Counter.builder().name("rg_step_prefill_tokens_total")
            .help("Prompt tokens fed through decode steps (--step-prefill) instead of prefill rounds").register(registry);
    private final Counter sharedPasses = Counter.builder().name("rg_shared_passes_total")
            .help("Forward passes that ran a prefill round and the decode step together (--shared-passes)").register(registry);
    private final Counter scoredTokens = Counter.builder().name("rg_prompt_tokens_scored_total")
            .help("Prompt tokens given their own log-probabilities (completions with echo and logprobs)").register(registry);
    private final Counter cacheLookups = Counter.builder().name("rg_state_cache_lookups_total")
            .help("State cache lookups by result (hit: a kept state was resumed)").labelNames("result").register(registry);
    private final Counter forked = Counter.builder().name("rg_sequences_forked_total")
            .help("Choices of requests with n > 1 started from a copy of choice 0's prefilled prompt").register(registry);
    private final Counter prefixesKept = Counter.builder().name("rg_state_cache_prefixes_kept_total")
            .help("States kept at a prompt's shared prefix (its system text, or all but its last user turn) for later requests")
            .register(registry);
    private final Counter cancelled = Counter.builder().name("rg_sequences_cancelled_total")
            .help("Sequences dropped because the client went away").register(registry);
    private final Counter batchRequests = Counter.builder().name("rg_batch_requests_total")
            .help("Requests of /v1/batches batches answered, by result (completed: status 200; failed: any other)")
            .labelNames("result").register(registry);
    private final Gauge batches = Gauge.builder().name("rg_batches")
            .help("Batches of /v1/batches by status").labelNames("status").register(registry);
    private final Gauge queueDepth = Gauge.builder().name("rg_queue_depth")
            .help("Requests waiting for a sequence slot").register(registry);
    private final Gauge active = Gauge.builder().name("rg_active_sequences")
            .help("Sequences being prefilled or decoded").register(registry);
    private final Gauge maxBatch = Gauge.builder().name("rg_batch_size_max")
            .help("Largest number of sequences decoded in one step since start").register(registry);
    private final Gauge cacheBytes = Gauge.builder().name("rg_state_cache_bytes")
            .help("Bytes of kept conversation states").register(registry);
    private final Gauge cacheEntries = Gauge.builder().name("rg_state_cache_entries")
            .help("Kept conversation states").register(registry);
    private final Gauge sequenceState = Gauge.builder().name("rg_sequence_state_bytes")
            .help("Bytes of one sequence's state (fixed: conv, RG-LRU and key/value rings)").register(registry);
    private final Gauge loading = Gauge.builder().name("rg_model_loading")
            .help("1 while the model is loading, else 0").register(registry);
    private final Histogram batchSize = Histogram.builder().name("rg_batch_size")
            .help("Sequences decoded together per step").classicOnly().classicUpperBounds(BATCH_BOUNDS).register(registry);
    private final Histogram prefillRows = Histogram.builder().name("rg_prefill_batch_rows")
            .help("Prompts prefilled together per prefill round (one forward pass)").classicOnly().classicUpperBounds(BATCH_BOUNDS)
            .register(registry);
    private final Histogram prefillTokens = Histogram.builder().name("rg_prefill_round_tokens")
            .help("Prompt tokens per row in one prefill round").classicOnly().classicUpperBounds(BATCH_BOUNDS).register(registry);
    private final Gauge maxPrefillRows = Gauge.builder().name("rg_prefill_batch_rows_max")
            .help("Most prompts prefilled together in one round since start").register(registry);
    private final Histogram ttft = Histogram.builder().name("rg_time_to_first_token_seconds")
            .help("From request arrival to its first generated token").classicOnly().classicUpperBounds(LATENCY_BOUNDS)
            .register(registry);
    private final Histogram itl = Histogram.builder().name("rg_inter_token_latency_seconds")
            .help("Between two generated tokens of one sequence").classicOnly().classicUpperBounds(LATENCY_BOUNDS)
            .register(registry);
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private int largestBatch;
    private int largestPrefill;

    /** A request of a /v1/batches batch was answered. */
    void batchRequest(boolean ok) {
        batchRequests.labelValues(ok ? "completed" : "failed").inc();
    }

    /** How many batches have each status now. */
    void batches(java.util.Map<String, Integer> byStatus) {
        for (String status : java.util.List.of("validating", "in_progress", "finalizing", "completed", "failed", "cancelling",
                "cancelled", "expired")) {
            batches.labelValues(status).set(byStatus.getOrDefault(status, 0));
        }
    }

    void request(String endpoint, int status) {
        requests.labelValues(endpoint, Integer.toString(status)).inc();
    }

    void admitted(int prompt, int cached) {
        promptTokens.inc(prompt);
        cachedTokens.inc(cached);
    }

    void cacheLookup(boolean hit) {
        cacheLookups.labelValues(hit ? "hit" : "miss").inc();
    }

    void cache(long bytes, int entries) {
        cacheBytes.set(bytes);
        cacheEntries.set(entries);
    }

    void token(boolean first, double seconds) {
        completionTokens.inc();
        (first ? ttft : itl).observe(seconds);
    }

    void cancelled(int sequences) {
        cancelled.inc(sequences);
    }

    void forked(int sequences) {
        forked.inc(sequences);
    }

    void prefixKept() {
        prefixesKept.inc();
    }

    void occupancy(int queued, int sequences) {
        queueDepth.set(queued);
        active.set(sequences);
    }

    void step(int batch) {
        batchSize.observe(batch);
        if (batch > largestBatch) {
            largestBatch = batch;
            maxBatch.set(batch);
        }
    }

    /** A prefill round: {@code rows} prompts advanced by {@code tokens} tokens each. */
    void prefillRound(int rows, int tokens) {
        prefillRows.observe(rows);
        prefillTokens.observe(tokens);
        if (rows > largestPrefill) {
            largestPrefill = rows;
            maxPrefillRows.set(rows);
        }
    }

    /** A prefill round and a decode step ran as one forward pass (also counted as each). */
    void sharedPass() {
        sharedPasses.inc();
    }

    /** A scoring pass gave {@code tokens} prompt tokens their log-probabilities. */
    void scored(int tokens) {
        scoredTokens.inc(tokens);
    }

    /** A prompt whose last {@code tokens} tokens are fed through decode steps. */
    void stepPrefill(int tokens) {
        stepPrefillTokens.inc(tokens);
    }

    void sequenceStateBytes(long bytes) {
        sequenceState.set(bytes);
    }

    void loading(boolean yes) {
        loading.set(yes ? 1 : 0);
    }

    /** The Prometheus text exposition of every metric. */
    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
