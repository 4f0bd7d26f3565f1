package dev.rg.core.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Why a file operation failed, in words: the JDK's file-system exceptions often carry only a path as their message
 * ({@code NoSuchFileException: /x}), which repeats the name a message already gives and hides the reason.
 */
public final class IoReasons {
    private IoReasons() {}

    /** The reason of {@code e}: the operating system's where it gave one, else what its type means. */
    public static String of(IOException e) {
        if (e instanceof FileSystemException f) {
            if (f.getReason() != null) {
                return f.getReason();
            }
            String meaning = switch (f) {
                case NoSuchFileException n -> "no such file or directory";
                case AccessDeniedException a -> "permission denied";
                case FileAlreadyExistsException a -> "already exists";
                case NotDirectoryException n -> "not a directory";
                case DirectoryNotEmptyException d -> "directory not empty";
                default -> f.getClass().getSimpleName();
            };
            String other = f.getOtherFile();
            return other == null ? meaning : meaning + " (" + other + ")";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : OneLine.of(e.getMessage());
    }
}
