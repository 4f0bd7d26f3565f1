package dev.rg.bench.run;

import java.nio.file.Path;

/**
 * Where the run's metadata (machine, probes, backends, skipped and capped operations, failures, cost of each
 * operation) goes: next to the JMH results, {@code results.json} -> {@code results.machine.json}. The report
 * looks for it there.
 */
public final class Sidecar {
    /** Suffix replacing {@code .json}. */
    public static final String SUFFIX = ".machine.json";

    private Sidecar() {}

    /** The sidecar of a results file. */
    public static Path of(Path results) {
        String name = results.getFileName().toString();
        String stem = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return results.resolveSibling(stem + SUFFIX);
    }

    /** Whether a file name is a sidecar (so the report does not read one as results). */
    public static boolean isSidecar(Path p) {
        return p.getFileName().toString().endsWith(SUFFIX);
    }
}
