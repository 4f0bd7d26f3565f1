package dev.rg.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Extend this in a backend's test suite to run the whole conformance kit on it:
 *
 * <pre>{@code
 * class MyBackendConformanceTest extends BackendConformanceTest {
 *     protected String backend() { return "mine"; }
 * }
 * }</pre>
 *
 * Fixtures are found through {@code -Drg.shared} (see {@link ConformanceKit#sharedDir()}).
 */
public abstract class BackendConformanceTest {
    /** The backend name to test. */
    protected abstract String backend();

    /** Worker threads for the backend. */
    protected int threads() {
        return 2;
    }

    @TestFactory
    Stream<DynamicTest> ops() {
        return dynamic(ConformanceKit.ops(backend(), threads()));
    }

    @TestFactory
    Stream<DynamicTest> fixtures() {
        Path shared = ConformanceKit.sharedDir();
        assertTrue(Files.isDirectory(shared.resolve("fixtures/model")), "model fixtures not found in " + shared + " (set -Drg.shared)");
        return dynamic(ConformanceKit.fixtures(backend(), threads(), shared));
    }

    private static Stream<DynamicTest> dynamic(List<CheckResult> results) {
        return results.stream().map(r -> DynamicTest.dynamicTest(r.name(), () -> assertTrue(r.passed(), r.toString())));
    }
}
