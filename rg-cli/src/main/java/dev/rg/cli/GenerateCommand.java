package dev.rg.cli;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.generate.Session;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rg generate}: continue a prompt, streaming the text, then a one-line summary on stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt, streaming text as it is generated, then print a summary line on stderr.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "The prompt (BOS is added).")
    String prompt;

    @Option(names = "--chat", description = "Wrap the prompt in the Gemma chat template (for -it models).")
    boolean chat;

    @Option(names = "--no-echo", description = "Do not print the prompt before the continuation.")
    boolean noEcho;

    @Override
    public Integer call() {
        String text = Prompts.clean(prompt, "--prompt");
        try (RecurrentGemma rg = model.load()) {
            Model m = rg.model();
            Warnings.print(m);
            GemmaTokenizer tok = rg.tokenizer();
            try (Session s = rg.session()) {
                int[] ids = chat ? Prompts.chatIds(tok, text) : s.encodeWithBos(text);
                if (!noEcho && !chat && !Output.write(text)) {
                    return 0;
                }
                long prefill = s.feed(ids);
                GenerationResult r = s.generate(sampling.config(), Output::write);
                Output.write("\n");
                System.err.println(summary(m, ids.length, r, prefill));
            }
        }
        return 0;
    }

    static String summary(Model m, int promptTokens, GenerationResult r, long prefillNanos) {
        double pre = prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
        return String.format(Locale.ROOT,
                "[prompt %d tokens, %.1f tok/s | generated %d tokens, %.1f tok/s | %s | backend %s, %d threads | weights %s, head %s | stop: %s]",
                promptTokens, pre, r.tokens().length, r.decodeTokensPerSecond(), m.dir().getFileName(), m.backend().name(),
                m.backend().threads(), m.linearFormat(), m.headFormat(), r.reason().name().toLowerCase(Locale.ROOT));
    }
}
