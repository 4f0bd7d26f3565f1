package dev.rg.core.model;

import java.util.Map;

/**
 * How to load a model.
 *
 * @param backend      backend name, or {@code "auto"} (also read from {@code -Drg.backend} / {@code RG_BACKEND})
 * @param threads      worker threads (0 = one per core)
 * @param format       weight format for the linear layers ({@code null} = as stored in the checkpoint)
 * @param quantizeHead whether the tied embedding / LM head is converted to {@code format} too
 * @param settings     backend-specific settings
 * @param headFormat   the tied embedding / LM head's format: a format name, {@link HeadFormat#STORED}, or null for
 *                     the default ({@link HeadFormat#resolve}: int8 when {@code format} has at most 8 bits per element)
 */
public record LoadOptions(String backend, int threads, String format, boolean quantizeHead, Map<String, String> settings,
        String headFormat) {
    public LoadOptions {
        if (threads < 0 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be in [0, " + MAX_THREADS + "] (0 = one per core; this machine has "
                    + Runtime.getRuntime().availableProcessors() + "), got " + threads);
        }
        settings = Map.copyOf(settings);
    }

    /** Options with the default head format. */
    public LoadOptions(String backend, int threads, String format, boolean quantizeHead, Map<String, String> settings) {
        this(backend, threads, format, quantizeHead, settings, null);
    }

    /** The most threads accepted: more than any machine's cores, few enough that a typo cannot exhaust memory. */
    public static final int MAX_THREADS = 1024;

    /** Automatic backend, all cores, weights as stored. */
    public static LoadOptions defaults() {
        return new LoadOptions("auto", 0, null, false, Map.of());
    }

    public LoadOptions withBackend(String name) {
        return new LoadOptions(name, threads, format, quantizeHead, settings, headFormat);
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(backend, n, format, quantizeHead, settings, headFormat);
    }

    public LoadOptions withFormat(String f, boolean head) {
        return new LoadOptions(backend, threads, f, head, settings, headFormat);
    }

    /** These options with the head in {@code f} (a format name, {@link HeadFormat#STORED}, or null for the default). */
    public LoadOptions withHeadFormat(String f) {
        return new LoadOptions(backend, threads, format, quantizeHead, settings, f);
    }

    /** Threads to use: {@link #threads()} or the number of cores. */
    public int effectiveThreads() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
