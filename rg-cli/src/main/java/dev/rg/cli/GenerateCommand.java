package dev.rg.cli;

import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.generate.PromptCache;
import dev.rg.core.generate.Session;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
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

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptSource source;

    /** The prompt: on the command line, or from a file. */
    static final class PromptSource {
        @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "The prompt (BOS is added).")
        String text;

        @Option(names = {"-f", "--prompt-file"}, required = true, paramLabel = "FILE",
                description = "Read the prompt from FILE instead (UTF-8, at most 16 MiB, one final line break dropped; - reads"
                        + " standard input).")
        Path file;
    }

    @Option(names = "--chat", description = "Wrap the prompt in the Gemma chat template (for -it models).")
    boolean chat;

    @Option(names = "--no-echo", description = "Do not print the prompt before the continuation.")
    boolean noEcho;

    @Option(names = "--prompt-cache", paramLabel = "FILE",
            description = "Keep the prompt's state in FILE: a later prompt that starts with the same tokens (a long document or"
                    + " instruction, then another question) processes only the tokens after them; a prompt that does not"
                    + " replaces the file.")
    Path promptCache;

    @Override
    public Integer call() {
        String text = source.file == null ? Prompts.clean(source.text, "--prompt")
                : Prompts.clean(PromptFile.read(source.file, System.in, "--prompt-file"), "--prompt-file " + source.file);
        GenerationConfig config = sampling.config(); // bad sampling options are refused before the model loads
        if (promptCache != null) {
            StateFileOption.requireUsable(promptCache, "--prompt-cache");
        }
        try (RecurrentGemma rg = model.load()) {
            Model m = rg.model();
            Warnings.print(m);
            GemmaTokenizer tok = rg.tokenizer();
            try (Session s = rg.session()) {
                int[] ids = chat ? Prompts.chatIds(tok, text) : s.encodeWithBos(text);
                boolean echo = !noEcho && !chat;
                long prefill;
                int reused = 0;
                if (promptCache == null) {
                    // the prompt shows while it is processed
                    if (echo && !Output.write(text)) {
                        return 0;
                    }
                    prefill = s.feed(ids);
                } else {
                    // the cache file is checked first: a file that is refused leaves no echoed prompt behind
                    PromptCache.Result c = PromptCache.feed(s, ids, promptCache);
                    if (c.warning() != null) {
                        System.err.println("warning: " + c.warning());
                    }
                    prefill = c.prefillNanos();
                    reused = c.reused();
                    if (echo && !Output.write(text)) {
                        return 0;
                    }
                }
                GenerationResult r = s.generate(config, Output::write);
                Output.write("\n");
                System.err.println(summary(m, ids.length, reused, r, prefill));
            }
        }
        return 0;
    }

    /** @param reused prompt tokens resumed from the prompt cache (not processed, not counted in the prefill rate) */
    static String summary(Model m, int promptTokens, int reused, GenerationResult r, long prefillNanos) {
        double pre = prefillNanos == 0 ? 0 : (promptTokens - reused) * 1e9 / prefillNanos;
        String prompt = reused == promptTokens ? String.format(Locale.ROOT, "prompt %d tokens, all from the prompt cache", reused)
                : reused > 0 ? String.format(Locale.ROOT, "prompt %d tokens (%d from the prompt cache), %.1f tok/s", promptTokens, reused, pre)
                : String.format(Locale.ROOT, "prompt %d tokens, %.1f tok/s", promptTokens, pre);
        return String.format(Locale.ROOT,
                "[%s | generated %d tokens, %.1f tok/s | %s | backend %s, %d threads | weights %s, head %s | stop: %s]",
                prompt, r.tokens().length, r.decodeTokensPerSecond(), m.dir().getFileName(), m.backend().name(),
                m.backend().threads(), m.linearFormat(), m.headFormat(), r.reason().name().toLowerCase(Locale.ROOT));
    }
}
