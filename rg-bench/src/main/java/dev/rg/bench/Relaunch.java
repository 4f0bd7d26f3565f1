package dev.rg.bench;

import dev.rg.bench.run.RunCommand;
import java.io.IOException;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code java -jar} cannot add JDK modules from the manifest, yet the vector backend needs
 * {@code jdk.incubator.vector} in the JVM that asks it whether it is available (and, in the quick profile, runs
 * it). So the runner starts itself once more with the measurement JVMs' flags, on the same class path, when the
 * module is missing; the child's exit status is returned.
 */
final class Relaunch {
    /** Set in the child, so it never relaunches again. */
    static final String MARKER = "rg.bench.relaunched";
    private static final String VECTOR = "jdk.incubator.vector";

    private Relaunch() {}

    /** Whether this JVM lacks what the benchmarks need and may start a child. */
    static boolean needed() {
        return System.getProperty(MARKER) == null && ModuleLayer.boot().findModule(VECTOR).isEmpty()
                && ModuleFinder.ofSystem().find(VECTOR).isPresent();
    }

    /** Runs {@code Main args} in a child JVM with the fork flags and waits for it. */
    static int run(String[] args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(RunCommand.FORK_JVM_ARGS);
        cmd.add("-D" + MARKER + "=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        return p.waitFor();
    }
}
