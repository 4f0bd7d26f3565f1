package dev.rg.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The check that {@code --session} and {@code --prompt-cache} make before a model is loaded: the file they name is
 * written after the first turn or prompt, so a missing directory is reported now, not minutes later.
 */
final class StateFileOption {
    private StateFileOption() {}

    /** @throws IllegalArgumentException naming {@code option} when {@code file}'s directory does not exist */
    static void requireDirectory(Path file, String option) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException(option + ": directory " + parent + " does not exist");
        }
    }
}
