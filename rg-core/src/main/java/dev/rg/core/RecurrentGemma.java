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
import dev.rg.core.model.ModelState;
import dev.rg.core.config.ModelConfig;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.nio.file.Files;
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

    /** Loads with a progress callback. The tokenizer is required and must fit the model's vocabulary. */
    public static RecurrentGemma load(Path dir, LoadOptions options, LoadProgress progress) {
        return open(dir, GemmaTokenizer.load(dir), options, progress);
    }

    /**
     * Loads a model that may come without tokenizer files (e.g. test fixtures run on token ids): a tokenizer in the
     * directory is loaded and checked against the vocabulary as by {@link #load}; without one, {@link #tokenizer()}
     * says so and {@link #session()} works on ids.
     */
    public static RecurrentGemma loadForIds(Path dir, LoadOptions options, LoadProgress progress) {
        boolean hasTokenizer = Files.exists(dir.resolve(GemmaTokenizer.MODEL_FILE)) || Files.exists(dir.resolve(GemmaTokenizer.JSON_FILE));
        return open(dir, hasTokenizer ? GemmaTokenizer.load(dir) : null, options, progress);
    }

    /**
     * A model of the given architecture with seeded random weights and no tokenizer (benchmarks: no download); see
     * {@link Model#random}.
     */
    public static RecurrentGemma random(ModelConfig config, String format, long seed, LoadOptions options, LoadProgress progress) {
        return new RecurrentGemma(Model.random(config, format, seed, options, progress), null);
    }

    /**
     * A model of the given architecture with seeded random weights and the given tokenizer (serving benchmarks: a
     * model of a real size behind the HTTP API, no download). The tokenizer must fit the vocabulary.
     */
    public static RecurrentGemma random(ModelConfig config, String format, long seed, LoadOptions options, LoadProgress progress,
            GemmaTokenizer tokenizer) {
        tokenizer.checkFits(config.vocabSize());
        return new RecurrentGemma(Model.random(config, format, seed, options, progress), tokenizer);
    }

    private static RecurrentGemma open(Path dir, GemmaTokenizer tok, LoadOptions options, LoadProgress progress) {
        Model m = Model.load(dir, options, progress);
        if (tok != null) {
            try {
                tok.checkFits(m.config().vocabSize());
            } catch (IllegalArgumentException e) {
                m.close();
                throw e;
            }
        }
        return new RecurrentGemma(m, tok);
    }

    public Model model() {
        return model;
    }

    /** The tokenizer; throws for a model loaded without one ({@link #random}, {@link #loadForIds} of a bare directory). */
    public GemmaTokenizer tokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException((model.dir() == null ? "a generated model" : model.dir().toString())
                    + " has no tokenizer (tokenizer.model or tokenizer.json): only token ids can be fed");
        }
        return tokenizer;
    }

    /** Whether a tokenizer came with the model. */
    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    /** Continues {@code prompt} (BOS added), streaming text to {@code sink}. */
    public GenerationResult generate(String prompt, GenerationConfig config, TextSink sink) {
        try (Session s = new Session(model, tokenizer())) {
            return s.generate(prompt, config, sink);
        }
    }

    /** Continues several prompts in one batch (one pass over the weights per step for all of them). */
    public List<GenerationResult> generate(List<String> prompts, GenerationConfig config) {
        List<int[]> ids = new ArrayList<>();
        try (Session s = new Session(model, tokenizer())) {
            for (String p : prompts) {
                ids.add(s.encodeWithBos(p));
            }
        }
        return new BatchGenerator(model, tokenizer()).generate(ids, config);
    }

    /** A new session for token-level control (feed, generate, continue). */
    public Session session() {
        return new Session(model, tokenizer);
    }

    /** A fresh model state for {@code batch} sequences (for running {@code model().griffin()} on token ids directly). */
    public ModelState newState(int batch) {
        return model.newState(batch);
    }

    /** A new multi-turn chat (for -it models). */
    public Chat chat() {
        return new Chat(model, tokenizer());
    }

    /** Text to ids (no BOS). */
    public int[] tokenize(String text) {
        return tokenizer().encode(text);
    }

    /** BOS, then {@code body}: how a prompt (or a prompt prefix) starts. */
    public int[] withBos(int[] body) {
        int[] ids = new int[body.length + 1];
        ids[0] = model.config().bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    /** Ids to text. */
    public String detokenize(int[] ids) {
        return tokenizer().decode(ids);
    }

    @Override
    public void close() {
        model.close();
    }
}
