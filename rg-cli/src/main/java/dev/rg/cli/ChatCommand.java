package dev.rg.cli;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.Chat;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.model.Model;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rg chat}: interactive multi-turn chat in the Gemma turn format. Lines are read from stdin (the
 * terminal's own line editing applies); {@code /reset} starts over, {@code /exit} or end of input quits. With
 * {@code --session FILE} the conversation is saved after every turn and resumed from the file next time, without
 * processing its history again.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Interactive multi-turn chat for instruction-tuned (-it) models. /reset starts over, /exit (or Ctrl-D) quits.")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--session", paramLabel = "FILE",
            description = "Resume the conversation saved in FILE (if it exists) and save it there after every turn: the model's"
                    + " fixed-size state, so resuming costs no prefill however long the conversation is.")
    Path session;

    @Override
    public Integer call() throws IOException {
        GenerationConfig config = sampling.config(); // bad sampling options are refused before the model loads
        if (session != null) {
            StateFileOption.requireUsable(session, "--session");
        }
        try (RecurrentGemma rg = model.load()) {
            Model m = rg.model();
            Warnings.print(m);
            boolean tty = System.console() != null;
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            try (Chat chat = rg.chat()) {
                if (session != null && Files.exists(session)) {
                    chat.resume(session);
                    System.err.println("resumed " + chat.turns() + (chat.turns() == 1 ? " turn" : " turns") + " ("
                            + chat.position() + " tokens) from " + session);
                }
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
                        if (session != null && tty) {
                            System.err.println("(the next turn replaces the conversation saved in " + session + ")");
                        }
                        continue;
                    }
                    if (line.isBlank()) {
                        continue;
                    }
                    GenerationResult r = chat.send(Prompts.clean(line, "message"), config, Output::write);
                    if (session != null) {
                        chat.save(session); // after every turn: an interrupted chat loses at most the turn in progress
                    }
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
