package dev.rg.server.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * Two load runs against the same server in one invocation, a baseline (typically one client) and the run (many
 * clients), and their ratios: what continuous batching buys in throughput and what it costs in inter-token latency.
 * Both runs are measured minutes apart on the same machine, so the ratios hold even where the machine's speed drifts
 * between invocations.
 */
public record LoadComparison(LoadReport baseline, LoadReport run) {

    /** Output tokens/s of the run over the baseline's. */
    public double throughputRatio() {
        return run.outputTokensPerSecond() / baseline.outputTokensPerSecond();
    }

    /** The run's p99 inter-token latency over the baseline's p99. */
    public double p99ItlRatio() {
        return run.itl()[2] / baseline.itl()[2];
    }

    /** The run's p99 inter-token latency over the baseline's median: the tail against a typical single-client gap. */
    public double p99ItlToBaselineMedian() {
        return run.itl()[2] / baseline.itl()[0];
    }

    /** The run's median inter-token latency over the baseline's median. */
    public double p50ItlRatio() {
        return run.itl()[0] / baseline.itl()[0];
    }

    /** Both tables and the ratios, for people. */
    public String table() {
        return "baseline: " + baseline.table() + "run:      " + run.table()
                + String.format(Locale.ROOT, "%-34s %8.2fx%n", "output tokens/s, run / baseline", throughputRatio())
                + String.format(Locale.ROOT, "%-34s %8.2fx%n", "inter-token p50 / baseline p50", p50ItlRatio())
                + String.format(Locale.ROOT, "%-34s %8.2fx%n", "inter-token p99 / baseline p99", p99ItlRatio())
                + String.format(Locale.ROOT, "%-34s %8.2fx%n", "inter-token p99 / baseline p50", p99ItlToBaselineMedian());
    }

    /** {@code {"baseline": .., "run": .., "ratios": {..}}}. */
    public String json() {
        ObjectMapper m = new ObjectMapper();
        try {
            ObjectNode root = m.createObjectNode();
            root.set("baseline", m.readTree(baseline.json()));
            root.set("run", m.readTree(run.json()));
            ObjectNode r = root.putObject("ratios");
            r.put("output_tokens_per_second", throughputRatio());
            r.put("inter_token_p50_to_baseline_p50", p50ItlRatio());
            r.put("inter_token_p99_to_baseline_p99", p99ItlRatio());
            r.put("inter_token_p99_to_baseline_p50", p99ItlToBaselineMedian());
            return m.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
