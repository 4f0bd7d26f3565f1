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
    private static final String FALLBACK = "fallback";

    /**
     * An op the backend does not run natively (not implemented by its kernels, or not in its capabilities): the model
     * runs it on the reference kernels, which is correct but slow, so it is reported rather than failed.
     */
    public static CheckResult fallback(String op) {
        return new CheckResult(op, true, 0, FALLBACK, "not native on this backend: runs on the reference kernels");
    }

    /** Whether this reports an op that falls back to the reference (see {@link #fallback}). */
    public boolean isFallback() {
        return FALLBACK.equals(tolerance) && passed;
    }

    @Override
    public String toString() {
        if (isFallback()) {
            return "FALLBACK " + name + "  " + detail;
        }
        return (passed ? "PASS " : "FAIL ") + name + "  max error " + String.format("%.3g", maxError) + " (" + tolerance
                + ")" + (detail.isEmpty() ? "" : "  " + detail);
    }
}
