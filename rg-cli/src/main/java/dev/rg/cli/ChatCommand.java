package dev.rg.cli;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.Chat;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.model.Model;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code rg chat}: interactive multi-turn chat in the Gemma turn format. Lines are read from stdin (the
 * terminal's own line editing applies); {@code /reset} starts over, {@code /exit} or end of input quits.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Interactive multi-turn chat for instruction-tuned (-it) models. /reset starts over, /exit (or Ctrl-D) quits.")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws IOException {
        try (RecurrentGemma rg = model.load()) {
            Model m = rg.model();
            Warnings.print(m);
            boolean tty = System.console() != null;
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            try (Chat chat = rg.chat()) {
                if (tty) {
                    System.err.println("rg chat with " + m.dir().getFileName() + " on " + m.backend().name()
                            + " (/reset to start over, /exit or Ctrl-D to quit)");
                }
                while (true) {
                    if (tty) {
                        Output.write("\n> ");
                    }
                    String line = in.readLine();
                    if (line == null || line.strip().equals("/exit")) {
                        break;
                    }
                    if (line.strip().equals("/reset")) {
                        chat.reset();
                        continue;
                    }
                    if (line.isBlank()) {
                        continue;
                    }
                    GenerationResult r = chat.send(Prompts.clean(line, "message"), sampling.config(), Output::write);
                    if (!Output.write("\n")) {
                        break;
                    }
                    if (tty) {
                        System.err.printf("[%d tokens, %.1f tok/s, conversation %d tokens]%n", r.tokens().length,
                                r.decodeTokensPerSecond(), chat.position());
                    }
                }
            }
        }
        return 0;
    }
}
