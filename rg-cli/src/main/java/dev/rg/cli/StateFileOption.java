package dev.rg.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The check that {@code --session} and {@code --prompt-cache} make before a model is loaded: the file they name is
 * written after the first turn or prompt, so a missing directory, or a name that is taken by a directory, FIFO or
 * device, is reported now, not after the model has loaded.
 */
final class StateFileOption {
    private StateFileOption() {}

    /**
     * @throws IllegalArgumentException naming {@code option} when {@code file}'s directory does not exist, or when
     *         {@code file} exists and is not a regular file
     */
    static void requireUsable(Path file, String option) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException(option + ": directory " + parent + " does not exist");
        }
        // the model files' check, so the message names the kind of file the name is taken by
        dev.rg.core.io.ModelFiles.requireRegularFile(file, (message, cause) -> new IllegalArgumentException(option + ": " + message));
    }
}
