package dev.rg.bench.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The current results next to a baseline, benchmark by benchmark (same benchmark and parameters). A change
 * beyond the threshold is a regression (slower) or an improvement (faster). Timings of shared machines move
 * by 20-50%: read a regression as "look here", and confirm it with repeated runs.
 */
public final class Comparison {
    /** How a benchmark moved. */
    public enum Status { REGRESSION, IMPROVEMENT, SAME, NEW, MISSING }

    /**
     * One benchmark in both runs.
     *
     * @param current  the current result, null when it disappeared
     * @param baseline the baseline result, null when it is new
     * @param change   current / baseline - 1 of the time (positive = slower), NaN when one side is missing
     * @param status   the verdict
     */
    public record Delta(Measurement current, Measurement baseline, double change, Status status) {
        /** Either side, for its name and parameters. */
        public Measurement any() {
            return current != null ? current : baseline;
        }
    }

    private Comparison() {}

    /** Compares by {@link Measurement#key()}; {@code threshold} is a fraction (0.10 = 10%). */
    public static List<Delta> compare(List<Measurement> current, List<Measurement> baseline, double threshold) {
        Map<String, Measurement> base = new LinkedHashMap<>();
        baseline.forEach(m -> base.put(m.key(), m));
        List<Delta> out = new ArrayList<>();
        for (Measurement c : current) {
            Measurement b = base.remove(c.key());
            if (b == null) {
                out.add(new Delta(c, null, Double.NaN, Status.NEW));
                continue;
            }
            double change = c.timeUs() / b.timeUs() - 1;
            Status s = change > threshold ? Status.REGRESSION : change < -threshold ? Status.IMPROVEMENT : Status.SAME;
            out.add(new Delta(c, b, change, s));
        }
        base.values().forEach(b -> out.add(new Delta(null, b, Double.NaN, Status.MISSING)));
        return out;
    }

    /** Number of deltas with a status. */
    public static long count(List<Delta> deltas, Status s) {
        return deltas.stream().filter(d -> d.status() == s).count();
    }
}
