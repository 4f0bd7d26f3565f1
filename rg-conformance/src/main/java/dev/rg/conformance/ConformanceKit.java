package dev.rg.conformance;

import dev.rg.api.backend.Backend;
import dev.rg.api.backend.BackendOptions;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.runtime.BackendRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The single entry point of the conformance kit: every op against the reference backend, then every model
 * fixture in {@code shared/fixtures/model}. Used by {@code rg check} and by {@link BackendConformanceTest}.
 */
public final class ConformanceKit {
    private ConformanceKit() {}

    /** Op checks of the named backend. */
    public static List<CheckResult> ops(String backend, int threads) {
        return ops(backend, threads, Map.of());
    }

    /** Op checks of the named backend created with {@code settings} (its {@link BackendOptions#settings}). */
    public static List<CheckResult> ops(String backend, int threads, Map<String, String> settings) {
        try (Backend b = BackendRegistry.select(backend).create(new BackendOptions(threads, settings))) {
            return new OpConformance(b).run();
        }
    }

    /**
     * Fixture checks of the named backend: every model in {@code shared/fixtures/model} and the bitsandbytes
     * checkpoints in {@code shared/fixtures/bnb} (loaded as they are, NF4 with and without double quantisation).
     */
    public static List<CheckResult> fixtures(String backend, int threads, Path shared) {
        return fixtures(backend, threads, Map.of(), shared);
    }

    /** {@link #fixtures(String, int, Path)} with the backend created with {@code settings}. */
    public static List<CheckResult> fixtures(String backend, int threads, Map<String, String> settings, Path shared) {
        LoadOptions options = new LoadOptions(backend, threads, null, false, settings);
        FixtureConformance fc = new FixtureConformance(options);
        List<CheckResult> out = new ArrayList<>();
        for (String group : List.of("fixtures/model", "fixtures/bnb")) {
            Path dir = shared.resolve(group);
            if (Files.isDirectory(dir)) {
                for (Path fixture : fixtureDirs(dir)) {
                    out.addAll(fc.check(fixture));
                }
            }
        }
        return out;
    }

    /** The model fixture directories (each with config.json and golden.json), sorted. */
    public static List<Path> fixtureDirs(Path modelFixtures) {
        try (Stream<Path> s = Files.list(modelFixtures)) {
            return s.filter(p -> Files.exists(p.resolve("golden.json")) && Files.exists(p.resolve("config.json")))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list fixtures in " + modelFixtures, e);
        }
    }

    /** The shared fixture root: {@code -Drg.shared}, {@code RG_SHARED}, else {@code ../shared} next to the checkout. */
    public static Path sharedDir() {
        String p = System.getProperty("rg.shared");
        if (p == null) {
            p = System.getenv("RG_SHARED");
        }
        return Path.of(p == null ? "../shared" : p).toAbsolutePath().normalize();
    }
}
