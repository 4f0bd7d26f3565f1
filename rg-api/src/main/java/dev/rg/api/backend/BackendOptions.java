package dev.rg.api.backend;

import java.util.Map;

/**
 * Options for creating a backend.
 *
 * @param threads  worker threads for CPU backends (&gt;= 1); GPU backends may ignore it
 * @param settings backend-specific settings ({@code key=value}, e.g. {@code device=1}); unknown keys are ignored
 */
public record BackendOptions(int threads, Map<String, String> settings) {
    public BackendOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        settings = Map.copyOf(settings);
    }

    /** One thread per available processor, no settings. */
    public static BackendOptions defaults() {
        return new BackendOptions(Runtime.getRuntime().availableProcessors(), Map.of());
    }
}
