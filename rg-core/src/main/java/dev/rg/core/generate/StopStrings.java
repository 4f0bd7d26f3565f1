package dev.rg.core.generate;

import java.util.List;

/**
 * Holds back streamed text that could still become a stop string, and cuts the text where one appears.
 * Only the held-back tail (shorter than the longest stop string) is buffered.
 */
public final class StopStrings {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    /** @param stops the stop strings (none: everything passes through at once) */
    public StopStrings(List<String> stops) {
        this.stops = stops;
    }

    /** Adds text; returns what can be emitted now. After a stop string, {@link #stopped()} is true. */
    public String push(String text) {
        if (stopped) {
            return "";
        }
        pending.append(text);
        if (stops.isEmpty()) {
            String out = pending.toString();
            pending.setLength(0);
            return out;
        }
        int cut = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
            }
        }
        if (cut >= 0) {
            stopped = true;
            String out = pending.substring(0, cut);
            pending.setLength(0);
            return out;
        }
        int keep = 0;
        String buffered = pending.toString();
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, buffered.length()); len > keep; len--) {
                if (buffered.regionMatches(buffered.length() - len, s, 0, len)) {
                    keep = len;
                    break;
                }
            }
        }
        String out = pending.substring(0, pending.length() - keep);
        pending.delete(0, pending.length() - keep);
        return out;
    }

    /** Releases the held-back text at the end of generation. */
    public String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    /** Whether a stop string has appeared. */
    public boolean stopped() {
        return stopped;
    }
}
