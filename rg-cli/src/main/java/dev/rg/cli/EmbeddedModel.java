package dev.rg.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The small RecurrentGemma that ships with rg ({@code models/austen-6m}: 5.9M parameters trained on Jane
 * Austen's novels), so {@code rg generate} works with no download. The launcher passes the checkout
 * location as {@code -Drg.home}.
 */
final class EmbeddedModel {
    static final String NAME = "austen-6m";

    private EmbeddedModel() {}

    static Path dir() {
        String home = System.getProperty("rg.home", System.getenv().getOrDefault("RG_HOME", "."));
        Path dir = Path.of(home).resolve("models").resolve(NAME);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("the embedded model is not at " + dir.toAbsolutePath()
                    + " (run rg through the ./rg launcher, or pass --model DIR)");
        }
        return dir;
    }
}
