package dev.rg.server.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The summary of a {@link LoadBenchmark} run: throughput and latency percentiles (nearest rank).
 *
 * @param ttft time to first token, seconds: p50, p95, p99
 * @param itl  inter-token latency (between streamed tokens of one request), seconds: p50, p95, p99
 * @param requestRate the Poisson arrival rate the requests were sent at, per second (0: closed loop)
 * @param meanCachedTokens prompt tokens per request the server resumed from its cache ({@code cached_tokens})
 */
public record LoadReport(String url, String model, int clients, int requests, double meanPromptTokens, double meanCachedTokens, int maxTokens,
        double requestRate, double seconds, long outputTokens, double outputTokensPerSecond, double requestsPerSecond, double[] ttft, double[] itl,
        dev.rg.core.runtime.MachineLoad.Share machine) {

    static LoadReport of(LoadBenchmark.Settings s, String model, double seconds, List<LoadBenchmark.Sample> samples,
            dev.rg.core.runtime.MachineLoad.Share machine) {
        List<Double> ttfts = new ArrayList<>();
        List<Double> gaps = new ArrayList<>();
        long out = 0;
        double prompt = 0;
        double cached = 0;
        for (LoadBenchmark.Sample x : samples) {
            cached += x.cachedTokens();
            ttfts.add(x.ttftSeconds());
            gaps.addAll(x.gaps());
            out += x.completionTokens();
            prompt += x.promptTokens();
        }
        return new LoadReport(s.url(), model, s.clients(), samples.size(), prompt / Math.max(1, samples.size()),
                cached / Math.max(1, samples.size()), s.maxTokens(),
                s.requestRate(), seconds, out, out / seconds, samples.size() / seconds, percentiles(ttfts), percentiles(gaps), machine);
    }

    private static double[] percentiles(List<Double> xs) {
        if (xs.isEmpty()) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
        Collections.sort(xs);
        return new double[] {rank(xs, 0.50), rank(xs, 0.95), rank(xs, 0.99)};
    }

    private static double rank(List<Double> sorted, double q) {
        int i = (int) Math.ceil(q * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    /** A table for people. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        String cachedText = meanCachedTokens > 0 ? String.format(Locale.ROOT, " (%.0f cached)", meanCachedTokens) : "";
        sb.append(String.format(Locale.ROOT, "%s  model %s: %d clients, %d requests, prompt %.0f tokens%s, %d tokens out each, %s, %.2f s%n",
                url, model, clients, requests, meanPromptTokens, cachedText, maxTokens, arrivals(), seconds));
        sb.append(String.format(Locale.ROOT, "%-26s %12.1f%n", "output tokens/s", outputTokensPerSecond));
        sb.append(String.format(Locale.ROOT, "%-26s %12.2f%n", "requests/s", requestsPerSecond));
        sb.append(String.format(Locale.ROOT, "%-26s %10s %10s %10s%n", "latency (ms)", "p50", "p95", "p99"));
        sb.append(String.format(Locale.ROOT, "%-26s %10.1f %10.1f %10.1f%n", "time to first token", ttft[0] * 1e3, ttft[1] * 1e3, ttft[2] * 1e3));
        sb.append(String.format(Locale.ROOT, "%-26s %10.2f %10.2f %10.2f%n", "inter-token latency", itl[0] * 1e3, itl[1] * 1e3, itl[2] * 1e3));
        if (machine != null) {
            // on a machine that also runs the server, the load generator's share is CPU the server did not get
            sb.append(String.format(Locale.ROOT, "%-26s %.0f%% this load generator, %.0f%% other processes (a server on this"
                    + " machine among them), steal %.0f%%%n", "machine CPU while measured", machine.ownPercent(),
                    machine.othersPercent(), machine.stealPercent()));
        }
        return sb.toString();
    }

    /** How requests were sent, in words. */
    private String arrivals() {
        return requestRate > 0 ? String.format(Locale.ROOT, "Poisson arrivals at %.3g/s", requestRate) : "closed loop";
    }

    /** The same as JSON (times in milliseconds). */
    public String json() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("url", url);
        root.put("model", model);
        root.put("clients", clients);
        root.put("requests", requests);
        root.put("prompt_tokens_mean", meanPromptTokens);
        root.put("cached_prompt_tokens_mean", meanCachedTokens);
        root.put("max_tokens", maxTokens);
        root.put("request_rate", requestRate); // 0: closed loop (each client sends its next request when its last ended)
        root.put("seconds", seconds);
        root.put("output_tokens", outputTokens);
        root.put("output_tokens_per_second", outputTokensPerSecond);
        root.put("requests_per_second", requestsPerSecond);
        ObjectNode t = root.putObject("ttft_ms");
        ObjectNode i = root.putObject("inter_token_latency_ms");
        String[] names = {"p50", "p95", "p99"};
        for (int k = 0; k < 3; k++) {
            t.put(names[k], ttft[k] * 1e3);
            i.put(names[k], itl[k] * 1e3);
        }
        if (machine != null) {
            root.putObject("machine_cpu_percent").put("load_generator", machine.ownPercent())
                    .put("other_processes", machine.othersPercent()).put("steal", machine.stealPercent());
        }
        try {
            return m.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
