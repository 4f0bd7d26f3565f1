package dev.rg.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * {@code rg batch}'s progress on stderr when it is a terminal: rows done (of how many, when known), rows per second
 * and the time left, one rewritten line, at most twice a second; silent when stderr is redirected or
 * {@code RG_NO_PROGRESS} is set.
 */
final class RowProgress implements AutoCloseable {
    private final long total;
    private final PrintStream err = System.err;
    private final boolean enabled = shown();
    private final long start = System.nanoTime();
    private long lastPrint;
    private boolean printed;

    /** Whether a progress line is shown: stderr is a terminal and {@code RG_NO_PROGRESS} is not set. */
    static boolean shown() {
        return System.console() != null && System.getenv("RG_NO_PROGRESS") == null;
    }

    /** @param total rows in the input, or -1 when unknown */
    RowProgress(long total) {
        this.total = total;
    }

    void update(long done) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastPrint < 500_000_000L && done != total) {
            return;
        }
        lastPrint = now;
        printed = true;
        err.print("\r\033[K" + line(done, total, (now - start) / 1e9));
        err.flush();
    }

    /** "120 / 1000 rows, 3.2 rows/s, 4 min 35 s left" (without a total: no share and no time left). */
    static String line(long done, long total, double seconds) {
        double rate = seconds > 0 ? done / seconds : 0;
        StringBuilder s = new StringBuilder("rg batch: ").append(done);
        if (total >= 0) {
            s.append(" / ").append(total);
        }
        s.append(String.format(Locale.ROOT, " rows, %.2f rows/s", rate));
        if (total >= 0 && rate > 0 && done < total) {
            long left = Math.round((total - done) / rate);
            s.append(", ").append(left >= 60 ? left / 60 + " min " + left % 60 + " s" : left + " s").append(" left");
        }
        return s.toString();
    }

    @Override
    public void close() {
        if (printed) {
            err.print("\r\033[K");
            err.flush();
        }
    }
}
