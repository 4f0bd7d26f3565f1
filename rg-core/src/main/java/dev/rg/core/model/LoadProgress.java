package dev.rg.core.model;

/** Receives progress of long loading work (mapping/checking files, converting weights). */
@FunctionalInterface
public interface LoadProgress {
    /** {@code done} of {@code total} bytes of {@code phase} ("check", "convert", "upload"). */
    void update(String phase, long done, long total);

    /** Ignores progress. */
    LoadProgress NONE = (p, d, t) -> {};
}
