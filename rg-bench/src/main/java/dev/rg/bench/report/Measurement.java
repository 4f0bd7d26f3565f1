package dev.rg.bench.report;

import dev.rg.bench.cost.OpCost;
import java.util.Map;
import java.util.TreeMap;

/**
 * One JMH result, normalised: time per operation in microseconds whatever JMH's mode and unit, and the cost
 * of the operation (null when unknown).
 *
 * @param source    label of the results file it came from
 * @param benchmark fully qualified benchmark name
 * @param params    JMH parameters, sorted by name
 * @param timeUs    mean time per operation, microseconds
 * @param errorUs   half-width of JMH's 99.9% confidence interval, microseconds (NaN when JMH gave none)
 * @param cost      FLOPs and bytes of one operation, or null
 */
public record Measurement(String source, String benchmark, Map<String, String> params, double timeUs, double errorUs,
        OpCost cost) {
    public Measurement {
        params = java.util.Collections.unmodifiableMap(new TreeMap<>(params));
    }

    /** The report section. */
    public String group() {
        return Groups.of(benchmark);
    }

    public String backend() {
        return params.getOrDefault("backend", "?");
    }

    /** The weight format, or "-" for benchmarks without one. */
    public String format() {
        return params.getOrDefault("format", "-");
    }

    public String threads() {
        return params.getOrDefault("threads", "?");
    }

    /** Identifies the result across runs: benchmark and every parameter. */
    public String key() {
        return benchmark + " " + params;
    }

    /** Identifies the operation whatever ran it: benchmark and parameters without backend and threads. */
    public String operationKey() {
        Map<String, String> p = new TreeMap<>(params);
        p.remove("backend");
        p.remove("threads");
        return benchmark + " " + p;
    }

    /** GB/s of the operation's compulsory traffic (NaN without a cost). */
    public double gbPerS() {
        return cost == null ? Double.NaN : cost.bytes() / (timeUs * 1e3);
    }

    /** GFLOP/s (NaN without a cost). */
    public double gflops() {
        return cost == null ? Double.NaN : cost.flops() / (timeUs * 1e3);
    }
}
