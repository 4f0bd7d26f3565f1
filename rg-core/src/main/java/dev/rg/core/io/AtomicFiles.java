package dev.rg.core.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Output files that appear whole or not at all: everything is written to a hidden temporary sibling
 * ({@code .NAME.tmp-XXXX} in the same directory, so the rename stays on one file system), flushed to disk, and
 * renamed over the target only when complete. A failure (bad input found late, a full disk, an exception)
 * deletes the temporary and leaves an existing target untouched.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content to the given (temporary) path. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path path) throws IOException;
    }

    /** Writes {@code target} through a temporary file and an atomic rename. */
    public static void write(Path target, Content content) {
        Path tmp = temporarySibling(target);
        try {
            content.writeTo(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            move(tmp, target);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException(target + ": cannot write: " + reason(e), e);
        } catch (RuntimeException | Error e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    /** Writes {@code text} as UTF-8 to {@code target}, atomically. */
    public static void writeString(Path target, String text) {
        write(target, p -> Files.writeString(p, text, StandardCharsets.UTF_8));
    }

    /**
     * Builds the directory {@code target} (which must not exist, or be empty) in a temporary sibling directory
     * and renames it into place when {@code content} has finished: a failed run leaves nothing behind.
     */
    public static void writeDirectory(Path target, Content content) {
        Path tmp = temporarySibling(target);
        try {
            Files.createDirectory(tmp);
            content.writeTo(tmp);
            if (Files.isDirectory(target)) {
                Files.delete(target); // empty (checked by the caller); rename(2) would replace it too, Files.move does not
            }
            move(tmp, target);
        } catch (IOException e) {
            deleteTree(tmp);
            throw new UncheckedIOException(target + ": cannot write: " + reason(e), e);
        } catch (RuntimeException | Error e) {
            deleteTree(tmp);
            throw e;
        }
    }

    private static Path temporarySibling(Path target) {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        if (parent == null) {
            throw new IllegalArgumentException(target + ": cannot write to the root directory");
        }
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new UncheckedIOException(parent + ": cannot create the directory: " + reason(e), e);
        }
        return parent.resolve("." + abs.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    }

    /**
     * Renames a finished file (or directory) over {@code to} in one step where the file system can, so that a reader
     * sees the old content or the new, never a part: for content written elsewhere first, such as a stream received
     * into a temporary name.
     */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The reason, and the file it concerns when that is not the target (the temporary, or a parent directory). */
    private static String reason(IOException e) {
        String file = e instanceof java.nio.file.FileSystemException f ? f.getFile() : null;
        return IoReasons.of(e) + (file == null ? "" : " (" + file + ")");
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the temporary name is hidden and unique
        }
    }

    /**
     * Deletes a directory tree, best effort: a file that vanishes or cannot be read while the tree is walked (another
     * process still ending, such as a browser's helpers in its profile) is passed over, not a reason to stop.
     */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    deleteQuietly(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) {
                    deleteQuietly(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
