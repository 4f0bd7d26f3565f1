package dev.rg.core;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the read-only shared fixtures ({@code -Drg.shared}, set by the build). */
public final class TestFiles {
    private TestFiles() {}

    public static Path shared() {
        Path p = Path.of(System.getProperty("rg.shared", "../../shared")).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("shared fixtures not found at " + p + " (set -Drg.shared)");
        }
        return p;
    }

    public static Path modelFixture(String name) {
        return shared().resolve("fixtures/model").resolve(name);
    }

    public static Path austen() {
        return shared().resolve("models/austen-6m");
    }
}
