package dev.rg.backend.vector;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@link DecodeAllocationTest} measurement in a new JVM with this JVM's executable, flags and class path: what the
 * JIT makes of the path there owes nothing to the compile order of this one.
 */
final class FreshJvm {
    /** The line of the child's output that carries its measurement. */
    static final String RESULT = "fresh JVM measured ";
    /** A measurement takes 10-60 s; far beyond that the child is stuck, and the test says so instead of hanging. */
    private static final long TIMEOUT_MINUTES = 10;

    private FreshJvm() {
    }

    record Result(boolean withinBound, String output) {
    }

    static Result measure(String what) {
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs this test"));
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(DecodeAllocationTest.class.getName());
        command.add(what);
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            // read while it runs, so a full pipe cannot block it; the wait below bounds the whole
            StringBuilder out = new StringBuilder();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try {
                    out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    out.append("(output unreadable: ").append(e.getMessage()).append(')');
                }
            });
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return new Result(false, "the fresh JVM did not finish in " + TIMEOUT_MINUTES + " minutes");
            }
            reader.join(TimeUnit.SECONDS.toMillis(30));
            String text = out.toString();
            String line = text.lines().filter(l -> l.startsWith(RESULT)).findFirst()
                    .orElse("no measurement; exit code " + p.exitValue() + ", output: " + text.strip());
            return new Result(p.exitValue() == 0 && line.startsWith(RESULT), line);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a fresh JVM for the allocation test", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the fresh JVM measured " + what, e);
        }
    }
}
