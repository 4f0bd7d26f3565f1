package dev.rg.bench.report;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Everything a report shows, computed once for both renderers: the runs, their results with the limits and
 * speed-ups that apply to each, the end-to-end figures, and the comparison with a baseline.
 */
public final class ReportModel {
    private final String title;
    private final List<RunData> runs;
    private final List<EndToEnd> endToEnd;
    private final RunData baseline;
    private final List<Comparison.Delta> comparison;
    private final double threshold;
    private final Map<String, Measurement> references = new HashMap<>();

    /**
     * @param title      page title
     * @param runs       the results files, in command-line order
     * @param endToEnd   {@code rg bench --json} results
     * @param baseline   the baseline run, or null
     * @param comparison current vs baseline, empty without a baseline
     * @param threshold  regression threshold (fraction)
     */
    public ReportModel(String title, List<RunData> runs, List<EndToEnd> endToEnd, RunData baseline,
            List<Comparison.Delta> comparison, double threshold) {
        this.title = title;
        this.runs = List.copyOf(runs);
        this.endToEnd = List.copyOf(endToEnd);
        this.baseline = baseline;
        this.comparison = List.copyOf(comparison);
        this.threshold = threshold;
        for (Measurement m : measurements()) {
            if (m.backend().equals("reference")) {
                references.put(m.source() + "|" + m.operationKey(), m);
                references.putIfAbsent("*|" + m.operationKey(), m);
            }
        }
    }

    public String title() {
        return title;
    }

    public List<RunData> runs() {
        return runs;
    }

    public List<EndToEnd> endToEnd() {
        return endToEnd;
    }

    /** The baseline run, or null. */
    public RunData baseline() {
        return baseline;
    }

    public List<Comparison.Delta> comparison() {
        return comparison;
    }

    /** Regression threshold, a fraction. */
    public double threshold() {
        return threshold;
    }

    /** Every current result, in file order. */
    public List<Measurement> measurements() {
        List<Measurement> all = new ArrayList<>();
        runs.forEach(r -> all.addAll(r.measurements()));
        return all;
    }

    /**
     * Results of one section, grouped by operation (in the order the run met them: the model's layer order), then by
     * backend and format, so that the rows to compare sit next to each other.
     */
    public List<Measurement> group(String group) {
        List<Measurement> ms = measurements().stream().filter(m -> m.group().equals(group)).toList();
        Map<String, Integer> ops = new HashMap<>();
        Map<String, Integer> variants = new HashMap<>();
        for (Measurement m : ms) {
            ops.putIfAbsent(Groups.label(m), ops.size());
            variants.putIfAbsent(m.source() + m.backend() + m.format() + m.threads(), variants.size());
        }
        List<Measurement> sorted = new ArrayList<>(ms);
        sorted.sort(java.util.Comparator.comparingInt((Measurement m) -> ops.get(Groups.label(m)))
                .thenComparingInt(m -> variants.get(m.source() + m.backend() + m.format() + m.threads())));
        return sorted;
    }

    /** Whether results come from more than one file (then each shows its file). */
    public boolean multipleSources() {
        return runs.size() > 1;
    }

    /** The limits measured with the run a result came from. */
    public Peaks peaks(Measurement m) {
        for (RunData r : runs) {
            if (r.label().equals(m.source())) {
                return r.peaks();
            }
        }
        return Peaks.NONE;
    }

    /** GB/s as a percentage of the read bandwidth measured at the result's thread count. */
    public double percentOfRead(Measurement m) {
        return 100 * m.gbPerS() / peaks(m).read(m.threads());
    }

    /** GFLOP/s as a percentage of the FMA rate measured at the result's thread count. */
    public double percentOfFma(Measurement m) {
        return 100 * m.gflops() / peaks(m).fma(m.threads());
    }

    /**
     * How many times faster than the reference backend on the same operation (same benchmark and parameters but
     * backend and threads; the same file first), or empty for the reference itself and for capped operations.
     */
    public OptionalDouble speedUp(Measurement m) {
        if (m.backend().equals("reference")) {
            return OptionalDouble.empty();
        }
        Measurement ref = references.get(m.source() + "|" + m.operationKey());
        if (ref == null) {
            ref = references.get("*|" + m.operationKey());
        }
        return ref == null ? OptionalDouble.empty() : OptionalDouble.of(ref.timeUs() / m.timeUs());
    }
}
