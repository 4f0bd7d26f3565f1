package dev.rg.bench.jmh;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.core.runtime.BackendRegistry;
import java.util.Map;

/** Creates a backend by name for a benchmark, or says cleanly why it cannot. */
public final class Backends {
    private Backends() {}

    /**
     * The named backend with {@code threads} worker threads.
     *
     * @throws BackendSkippedException when it is not discovered or not available, with the probe's reason
     */
    public static Backend create(String name, int threads) {
        BackendRegistry.Entry entry = entry(name);
        return entry.provider().create(new BackendOptions(Math.max(1, threads), Map.of()));
    }

    /** The discovered, available entry for {@code name}. */
    static BackendRegistry.Entry entry(String name) {
        for (BackendRegistry.Entry e : BackendRegistry.discover()) {
            if (e.name().equals(name)) {
                if (e.provider() == null || !e.availability().available()) {
                    throw new BackendSkippedException("backend '" + name + "' skipped: " + e.availability().reason());
                }
                return e;
            }
        }
        throw new BackendSkippedException("backend '" + name + "' skipped: not discovered (its jar is not on the class path)");
    }
}
