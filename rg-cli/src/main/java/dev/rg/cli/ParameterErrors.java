package dev.rg.cli;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * A mistyped command line ends like every other bad input: one line on stderr and exit code 2. picocli's own handler
 * prints its message followed by the whole usage text (30-60 lines for {@code rg generate}), where the one line that
 * says what was wrong scrolls away; this one keeps picocli's message and its "did you mean" suggestions, and points
 * at {@code --help} instead.
 */
final class ParameterErrors implements CommandLine.IParameterExceptionHandler {
    /** At most this many suggestions for a misspelt option or command. */
    private static final int MAX_SUGGESTIONS = 3;

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(line(ex));
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** The message, with the suggestions and the help hint: {@code rg: error: ... (did you mean ...?); see 'rg X --help'}. */
    static String line(ParameterException ex) {
        String message = dev.rg.core.io.OneLine.of(String.valueOf(ex.getMessage()));
        if (message.startsWith("Error: ")) {
            message = message.substring("Error: ".length()); // picocli's argument-group messages say it again
        }
        StringBuilder line = new StringBuilder("rg: error: ").append(message);
        if (ex instanceof UnmatchedArgumentException unmatched) {
            List<String> suggestions = unmatched.getSuggestions();
            if (!suggestions.isEmpty()) {
                line.append(" (did you mean ")
                        .append(String.join(", ", suggestions.subList(0, Math.min(MAX_SUGGESTIONS, suggestions.size()))))
                        .append("?)");
            }
        }
        return line.append("; see '").append(ex.getCommandLine().getCommandSpec().qualifiedName()).append(" --help'").toString();
    }
}
