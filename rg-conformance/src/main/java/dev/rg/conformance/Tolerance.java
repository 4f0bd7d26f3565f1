package dev.rg.conformance;

/**
 * An elementwise tolerance {@code |actual - expected| <= abs + rel * |expected|}.
 *
 * @param abs absolute part
 * @param rel relative part
 */
public record Tolerance(double abs, double rel) {
    /** Float32 kernels with a different summation order than the reference (double accumulation). */
    public static final Tolerance KERNEL = new Tolerance(2e-5, 2e-4);
    /** The fixture logits: 1e-4 absolute (observed noise between independent f32 implementations is 7e-6). */
    public static final Tolerance LOGITS = new Tolerance(1e-4, 0);
    /** Per-layer outputs: 2e-4 or 1e-5 relative to max(1, |value|), as the fixture README states. */
    public static final Tolerance LAYERS = new Tolerance(2e-4, 1e-5);

    /** How far {@code actual} is beyond the tolerance, normalised: &lt;= 1 passes. */
    public double ratio(double actual, double expected) {
        double allowed = abs + rel * Math.abs(expected);
        double err = Math.abs(actual - expected);
        if (Double.isNaN(actual) != Double.isNaN(expected)) {
            return Double.POSITIVE_INFINITY;
        }
        return err / allowed;
    }

    @Override
    public String toString() {
        return rel == 0 ? "abs " + abs : "abs " + abs + " + rel " + rel;
    }

    /** Compares arrays elementwise; the result names the worst element. */
    public CheckResult compare(String name, float[] actual, float[] expected, int n) {
        double worstRatio = 0;
        double worstErr = 0;
        int at = -1;
        for (int i = 0; i < n; i++) {
            double r = ratio(actual[i], expected[i]);
            if (r > worstRatio || at < 0) {
                worstRatio = r;
                at = i;
            }
            worstErr = Math.max(worstErr, Math.abs(actual[i] - expected[i]));
        }
        boolean ok = worstRatio <= 1.0 && Double.isFinite(worstRatio);
        String detail = at < 0 ? "" : ok ? "" : "worst at index " + at + ": " + actual[at] + " vs expected " + expected[at];
        return new CheckResult(name, ok, worstErr, toString(), detail);
    }
}
