package dev.rg.cli;

import dev.rg.conformance.CheckResult;
import dev.rg.conformance.ConformanceKit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rg check}: the conformance kit on one backend. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Run the conformance kit on a backend: every op against the reference backend, then the golden model fixtures.")
final class CheckCommand implements Callable<Integer> {
    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto", description = "Backend to check (default: auto).")
    String backend;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "2", description = "Worker threads.")
    int threads;

    @Option(names = "--fixtures", paramLabel = "DIR",
            description = "The shared fixtures directory (default: -Drg.shared, RG_SHARED or ../shared). Without it only the ops are checked.")
    Path fixtures;

    @picocli.CommandLine.Mixin
    BackendSettingsOption backendSettings;

    @Option(names = {"-v", "--verbose"}, description = "Print every check, not only failures.")
    boolean verbose;

    @Override
    public Integer call() {
        Map<String, String> settings = backendSettings.settings();
        List<CheckResult> results = new ArrayList<>(ConformanceKit.ops(backend, threads, settings));
        Path shared = fixtures != null ? fixtures : ConformanceKit.sharedDir();
        Path models = shared.resolve("fixtures/model");
        if (Files.isDirectory(models)) {
            results.addAll(ConformanceKit.fixtures(backend, threads, settings, shared));
        } else {
            System.err.println("rg: note: no model fixtures at " + models + "; checked the ops only");
        }
        int failed = 0;
        for (CheckResult r : results) {
            if (!r.passed()) {
                failed++;
            }
            if (verbose || !r.passed() || r.isFallback()) {
                Output.write(r + "\n");
            }
        }
        Output.write((results.size() - failed) + " passed, " + failed + " failed\n");
        return failed == 0 ? 0 : 1;
    }
}
