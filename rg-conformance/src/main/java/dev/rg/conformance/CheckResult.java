package dev.rg.conformance;

/**
 * The outcome of one conformance check.
 *
 * @param name      what was checked, e.g. {@code matmul nf4 17x67->37}
 * @param passed    whether it met its tolerance
 * @param maxError  the largest error found (absolute, or the tolerance-normalised excess for mixed tolerances)
 * @param tolerance the tolerance applied, in words
 * @param detail    where the largest error was, or why the check failed
 */
public record CheckResult(String name, boolean passed, double maxError, String tolerance, String detail) {
    @Override
    public String toString() {
        return (passed ? "PASS " : "FAIL ") + name + "  max error " + String.format("%.3g", maxError) + " (" + tolerance
                + ")" + (detail.isEmpty() ? "" : "  " + detail);
    }
}
