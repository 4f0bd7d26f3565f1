package dev.rg.cli;

import dev.rg.core.model.LoadProgress;
import java.io.PrintStream;

/**
 * Shows loading progress on stderr when it is a terminal (a single rewritten line, at most 10 updates a
 * second); silent when output is redirected.
 */
final class TerminalProgress implements LoadProgress, AutoCloseable {
    private final String label;
    private final PrintStream err = System.err;
    private final boolean enabled = System.console() != null && System.getenv("RG_NO_PROGRESS") == null;
    private long lastPrint;
    private boolean printed;

    TerminalProgress(String label) {
        this.label = label;
    }

    @Override
    public void update(String phase, long done, long total) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastPrint < 100_000_000L && done != total) {
            return;
        }
        lastPrint = now;
        printed = true;
        String amount = total > 0 ? String.format("%3d%%", done * 100 / total) : String.format("%.1f MB", done / 1e6);
        err.print("\r" + label + ": " + phase + " " + amount + "   ");
        err.flush();
    }

    @Override
    public void close() {
        if (printed) {
            err.print("\r\033[K");
            err.flush();
        }
    }
}
