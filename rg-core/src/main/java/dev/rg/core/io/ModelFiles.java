package dev.rg.core.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.function.BiFunction;

/** Checks on the files of a model directory before they are opened. */
public final class ModelFiles {
    private ModelFiles() {}

    /**
     * Refuses anything but a regular file (after following links): reading a FIFO, a device or a socket named like
     * a model file would block forever or never end.
     */
    public static <E extends RuntimeException> void requireRegularFile(Path file, BiFunction<String, Throwable, E> error) {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw error.apply(file + ": not a regular file (" + kind(file) + ")", null);
        }
    }

    private static String kind(Path p) {
        if (Files.isDirectory(p)) {
            return "a directory";
        }
        try {
            Object type = Files.readAttributes(p, "unix:mode").get("mode");
            int mode = type instanceof Integer i ? i : 0;
            return switch (mode & 0170000) {
                case 0010000 -> "a named pipe";
                case 0020000, 0060000 -> "a device";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "a special file";
        }
    }

    /**
     * Refuses a file whose real path (links resolved) lies outside the model directory: a shard linked to
     * {@code /etc/...} or to another model is not read. The one exception is the Hugging Face cache layout, where
     * {@code snapshots/<revision>/} holds links into the repository's {@code blobs/} directory.
     */
    public static <E extends RuntimeException> void requireInside(Path dir, Path file, BiFunction<String, Throwable, E> error) {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Path realDir = dir.toRealPath();
            Path real = file.toRealPath();
            if (real.startsWith(realDir)) {
                return;
            }
            Path snapshots = realDir.getParent();
            if (snapshots != null && snapshots.getFileName() != null && snapshots.getFileName().toString().equals("snapshots")
                    && snapshots.getParent() != null && real.startsWith(snapshots.getParent().resolve("blobs"))) {
                return; // ~/.cache/huggingface/hub/models--org--name/{snapshots/REV -> blobs/HASH}
            }
            throw error.apply(file + ": links to " + real + ", outside the model directory " + realDir + "; refusing to read it", null);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot resolve: " + e.getMessage(), e);
        }
    }
}
