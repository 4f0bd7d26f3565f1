package dev.rg.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rg} command. Errors in the input end with a one-line message and exit code 2, never a stack trace. */
@Command(name = "rg", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "RecurrentGemma on the JVM: run Google's RecurrentGemma (Griffin) models on pluggable backends.",
        subcommands = {GenerateCommand.class, ChatCommand.class, BatchCommand.class, TokenizeCommand.class, InfoCommand.class,
                ForwardCommand.class, BackendsCommand.class, CheckCommand.class, BenchCommand.class, QuantizeCommand.class, QualityCommand.class, ServeCommand.class, BenchServeCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Runs the command line and returns the exit code. */
    public static int run(String... args) {
        return run(new CommandLine(new Main()), args);
    }

    /** Runs {@code cl} with rg's error handling: one line on stderr, exit code 2. */
    static int run(CommandLine cl, String... args) {
        cl.setParameterExceptionHandler(new ParameterErrors());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean debug = Boolean.getBoolean("rg.debug") || System.getenv("RG_DEBUG") != null;
            if (debug) {
                ex.printStackTrace();
            }
            cmd.getErr().println("rg: error: " + Errors.describe(ex));
            cmd.getErr().flush();
            return 2;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands Errors through: the heap is exhausted, say so in one line (the stack is of no use to a user)
            System.err.println("rg: error: " + Errors.describe(e));
            System.err.flush();
            return 2;
        }
    }

    public static void main(String[] args) {
        int code = run(args);
        System.out.flush();
        System.exit(code);
    }
}
