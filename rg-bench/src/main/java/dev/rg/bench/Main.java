package dev.rg.bench;

import dev.rg.bench.report.ReportCommand;
import dev.rg.bench.run.RunCommand;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar rg-bench.jar run|report|jmh ...}: {@code run} measures (see {@link RunCommand}),
 * {@code report} renders results as HTML and Markdown (see {@link ReportCommand}), {@code jmh} hands the
 * remaining arguments to JMH's own command line (e.g. {@code jmh -l}, or one benchmark with {@code -p}).
 */
@Command(name = "rg-bench", mixinStandardHelpOptions = true, version = "rg-bench",
        subcommands = {RunCommand.class, ReportCommand.class},
        description = "rg's JMH benchmarks and performance report. Also: 'jmh ARGS' runs JMH's own command line.")
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        boolean measures = args.length > 0 && (args[0].equals("run") || args[0].equals("jmh"));
        boolean help = Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h");
        if (measures && !help && Relaunch.needed()) {
            System.exit(Relaunch.run(args));
        }
        if (args.length > 0 && args[0].equals("jmh")) {
            org.openjdk.jmh.Main.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        System.exit(execute(args));
    }

    /** Runs a command in this JVM and returns its exit status (for tests). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("rg-bench: " + e.getMessage());
            if (System.getenv("RG_DEBUG") != null) {
                e.printStackTrace(cmd.getErr());
            }
            return 2;
        });
        return cl.execute(args);
    }
}
