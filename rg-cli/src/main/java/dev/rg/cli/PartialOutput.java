package dev.rg.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * {@code rg batch -o FILE}: rows go to {@code FILE.partial}, flushed after every batch, and the file is renamed to
 * {@code FILE} when the job completes, so {@code FILE} only ever appears whole. A job that stops (an error, Ctrl-C,
 * a lost machine) leaves {@code FILE.partial} with every row finished so far; {@code --resume} keeps those rows (a
 * last line cut short is dropped) and carries on after them. Without {@code --resume} an existing partial file is
 * refused rather than overwritten: it may be hours of work.
 */
final class PartialOutput implements AutoCloseable {
    private final Path output;
    private final Path partial;
    private final long kept;
    private final BufferedWriter writer;
    private volatile boolean completed;
    private volatile long written;
    private boolean reported;

    /** Held while the job runs: a second job with the same output is refused instead of mixing rows into this one's. */
    private final FileChannel lockChannel;

    private PartialOutput(Path output, Path partial, long kept, BufferedWriter writer, FileChannel lockChannel) {
        this.output = output;
        this.partial = partial;
        this.kept = kept;
        this.writer = writer;
        this.lockChannel = lockChannel;
    }

    /** Where the rows of {@code output} are written until the job completes. */
    static Path partialOf(Path output) {
        return output.resolveSibling(output.getFileName() + ".partial");
    }

    /** Opens the partial file: anew, or after the rows an earlier run finished ({@code resume}). */
    static PartialOutput open(Path output, boolean resume) {
        Path partial = partialOf(output);
        FileChannel lockChannel = null;
        try {
            boolean existed = Files.exists(partial);
            if (existed && !Files.isRegularFile(partial)) {
                throw new IllegalArgumentException("--output: " + partial + " is in the way and is not a regular file");
            }
            lockChannel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            if (!locked(lockChannel)) {
                throw new IllegalArgumentException("--output: " + partial + " is being written by another running rg batch; wait"
                        + " for it to finish, or give another -o");
            }
            long kept = 0;
            if (existed) {
                long[] rows = completeRows(partial);
                kept = rows[0];
                if (!resume && kept > 0) {
                    throw new IllegalArgumentException("--output: " + partial + " holds " + kept + " rows of an earlier run that"
                            + " stopped; --resume carries on after them, or delete it to start again");
                }
                if (rows[1] < rows[2]) {
                    // a last line without its line break: the row being written when the run stopped
                    lockChannel.truncate(rows[1]);
                }
            }
            BufferedWriter w = Files.newBufferedWriter(partial, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, kept > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
            return new PartialOutput(output, partial, kept, w, lockChannel);
        } catch (IOException e) {
            closeQuietly(lockChannel);
            throw new UncheckedIOException("--output: cannot write " + partial + ": " + dev.rg.core.io.IoReasons.of(e), e);
        } catch (RuntimeException e) {
            closeQuietly(lockChannel);
            throw e;
        }
    }

    /** Whether this job now holds the partial file's lock (false: another process, or another job in this JVM, has it). */
    private static boolean locked(FileChannel channel) throws IOException {
        try {
            return channel.tryLock() != null;
        } catch (java.nio.channels.OverlappingFileLockException heldHere) {
            return false;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            if (channel != null) {
                channel.close(); // and its lock
            }
        } catch (IOException e) {
            // nothing was written through it
        }
    }

    /** Rows in the partial file now: those kept from an earlier run and those written since. */
    long rows() {
        return kept + written;
    }

    /**
     * Says once, on stderr, where the finished rows of a job that did not complete are (from the error path, or from a
     * shutdown hook when the job is stopped by a signal): nothing when it completed or has no rows.
     */
    synchronized void reportStop() {
        if (completed || reported || rows() == 0) {
            return;
        }
        reported = true;
        System.err.println("rg: stopped; " + rows() + " finished rows are in " + partial + "; run the same command with"
                + " --resume to carry on after them");
        System.err.flush();
    }

    /** Rows kept from an earlier run (0 when starting anew). */
    long kept() {
        return kept;
    }

    Path partial() {
        return partial;
    }

    /** The kept rows, to check them against the input before skipping it. */
    InputStream readKept() throws IOException {
        return Files.newInputStream(partial);
    }

    boolean write(String row) {
        written++;
        try {
            writer.write(row);
            writer.write('\n');
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("--output: cannot write " + partial + ": " + dev.rg.core.io.IoReasons.of(e), e);
        }
    }

    /** After each batch: the rows so far reach the file, so a stop loses at most the batch being decoded. */
    void flush() {
        try {
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("--output: cannot write " + partial + ": " + dev.rg.core.io.IoReasons.of(e), e);
        }
    }

    /** The job is done: the partial file, synced, becomes the output (replacing an older one). */
    void complete() {
        try {
            writer.close();
            try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(partial, output, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(partial, output, StandardCopyOption.REPLACE_EXISTING);
            }
            completed = true;
            closeQuietly(lockChannel);
        } catch (IOException e) {
            throw new UncheckedIOException("--output: cannot move " + partial + " to " + output + ": "
                    + dev.rg.core.io.IoReasons.of(e), e);
        }
    }

    /** Leaves the partial file for {@code --resume} when the job did not complete. */
    @Override
    public void close() {
        if (!completed) {
            try {
                writer.close();
                if (kept == 0 && written == 0) {
                    Files.deleteIfExists(partial); // nothing to resume: leave nothing behind
                }
            } catch (IOException e) {
                // the rows that reached the file are what a resume keeps
            }
            closeQuietly(lockChannel);
        }
    }

    /** {complete rows, the byte after the last one's line break, the file's size}. */
    private static long[] completeRows(Path file) throws IOException {
        long rows = 0;
        long end = 0;
        long position = 0;
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        rows++;
                        end = position + i + 1;
                    }
                }
                position += n;
            }
        }
        return new long[] {rows, end, position};
    }
}
