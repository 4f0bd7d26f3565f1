package dev.rg.bench.report;

import java.util.Locale;

/** Number formatting shared by the HTML and Markdown reports (one locale, sensible significant digits). */
final class Fmt {
    private Fmt() {}

    /** A time given in microseconds, in the unit that reads best (ns, µs, ms, s). */
    static String time(double us) {
        if (Double.isNaN(us)) {
            return "";
        }
        if (us < 1) {
            return sig(us * 1e3) + " ns";
        }
        if (us < 1e3) {
            return sig(us) + " µs";
        }
        if (us < 1e6) {
            return sig(us / 1e3) + " ms";
        }
        return sig(us / 1e6) + " s";
    }

    /** Three significant digits, no exponent for everyday magnitudes. */
    static String sig(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "";
        }
        double a = Math.abs(v);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        if (a >= 0.001 || a == 0) {
            return String.format(Locale.ROOT, "%.3f", v);
        }
        return String.format(Locale.ROOT, "%.2e", v);
    }

    /** A percentage with no decimals (one below 10). */
    static String pct(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "";
        }
        return String.format(Locale.ROOT, Math.abs(v) < 10 ? "%.1f%%" : "%.0f%%", v);
    }

    /** A signed change, e.g. "+12.3%". */
    static String change(double fraction) {
        if (Double.isNaN(fraction)) {
            return "";
        }
        return String.format(Locale.ROOT, "%+.1f%%", fraction * 100);
    }

    /** A speed-up factor, e.g. "12.5x". */
    static String factor(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "";
        }
        return sig(v) + "x";
    }

    /** A number rounded for a chart (null-safe: NaN becomes null in JSON). */
    static Double chart(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return null;
        }
        return Double.parseDouble(String.format(Locale.ROOT, "%.4g", v));
    }
}
