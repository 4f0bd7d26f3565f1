package dev.rg.core;

import dev.rg.core.generate.BatchGenerator;
import dev.rg.core.generate.Chat;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.generate.Session;
import dev.rg.core.generate.TextSink;
import dev.rg.core.model.LoadOptions;
import dev.rg.core.model.LoadProgress;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The Java API: a RecurrentGemma model with its tokenizer, ready to generate.
 *
 * <pre>{@code
 * try (RecurrentGemma rg = RecurrentGemma.load(Path.of("recurrentgemma-2b-it"), LoadOptions.defaults())) {
 *     rg.generate("Why is the sky blue?", GenerationConfig.greedy(64), text -> { System.out.print(text); return true; });
 *     try (Chat chat = rg.chat()) {
 *         chat.send("Hello!", GenerationConfig.greedy(64), TextSink.NONE);
 *     }
 * }
 * }</pre>
 *
 * Thread-safe: concurrent {@link #generate} calls (and separate {@link Session}s/{@link Chat}s) share the
 * loaded weights; each has its own fixed-size state.
 */
public final class RecurrentGemma implements AutoCloseable {
    private final Model model;
    private final GemmaTokenizer tokenizer;

    private RecurrentGemma(Model model, GemmaTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Loads a Hugging Face RecurrentGemma directory (config.json, safetensors, tokenizer.model or tokenizer.json). */
    public static RecurrentGemma load(Path dir, LoadOptions options) {
        return load(dir, options, LoadProgress.NONE);
    }

    /** Loads with a progress callback. */
    public static RecurrentGemma load(Path dir, LoadOptions options, LoadProgress progress) {
        GemmaTokenizer tok = GemmaTokenizer.load(dir);
        Model m = Model.load(dir, options, progress);
        if (tok.vocabSize() > m.config().vocabSize()) {
            m.close();
            throw new IllegalArgumentException(dir + ": the tokenizer has " + tok.vocabSize() + " pieces but the model only "
                    + m.config().vocabSize() + " embeddings");
        }
        return new RecurrentGemma(m, tok);
    }

    public Model model() {
        return model;
    }

    public GemmaTokenizer tokenizer() {
        return tokenizer;
    }

    /** Continues {@code prompt} (BOS added), streaming text to {@code sink}. */
    public GenerationResult generate(String prompt, GenerationConfig config, TextSink sink) {
        try (Session s = new Session(model, tokenizer)) {
            return s.generate(prompt, config, sink);
        }
    }

    /** Continues several prompts in one batch (one pass over the weights per step for all of them). */
    public List<GenerationResult> generate(List<String> prompts, GenerationConfig config) {
        List<int[]> ids = new ArrayList<>();
        try (Session s = new Session(model, tokenizer)) {
            for (String p : prompts) {
                ids.add(s.encodeWithBos(p));
            }
        }
        return new BatchGenerator(model, tokenizer).generate(ids, config);
    }

    /** A new session for token-level control (feed, generate, continue). */
    public Session session() {
        return new Session(model, tokenizer);
    }

    /** A new multi-turn chat (for -it models). */
    public Chat chat() {
        return new Chat(model, tokenizer);
    }

    /** Text to ids (no BOS). */
    public int[] tokenize(String text) {
        return tokenizer.encode(text);
    }

    /** Ids to text. */
    public String detokenize(int[] ids) {
        return tokenizer.decode(ids);
    }

    @Override
    public void close() {
        model.close();
    }
}
