package dev.rg.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rg.bench.report.Comparison;
import dev.rg.bench.report.Measurement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Regression verdicts against a baseline. */
class ComparisonTest {
    private static Measurement m(String backend, double us) {
        return new Measurement("f", "dev.rg.bench.jmh.MatmulBench.matvec", Map.of("backend", backend, "shape", "8x8"), us, 0, null);
    }

    @Test
    void slowerBeyondTheThresholdIsARegression() {
        List<Comparison.Delta> d = Comparison.compare(List.of(m("a", 111), m("b", 89), m("c", 105), m("new", 1)),
                List.of(m("a", 100), m("b", 100), m("c", 100), m("gone", 1)), 0.10);
        assertEquals(Comparison.Status.REGRESSION, d.get(0).status());
        assertEquals(0.11, d.get(0).change(), 1e-9);
        assertEquals(Comparison.Status.IMPROVEMENT, d.get(1).status());
        assertEquals(Comparison.Status.SAME, d.get(2).status());
        assertEquals(Comparison.Status.NEW, d.get(3).status());
        assertEquals(Comparison.Status.MISSING, d.get(4).status());
    }
}
