package dev.rg.server;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.generate.TokenLogprobs;
import dev.rg.core.model.Finite;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.NonFiniteException;
import dev.rg.core.model.Outputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The log-probabilities of a prompt's own tokens (completions with {@code echo} and {@code logprobs}: how a client
 * such as an evaluation harness scores a text), computed a chunk per scheduler iteration on a state of its own, each
 * chunk one forward pass that keeps the logits of every position. Token {@code i} gets its entry from position
 * {@code i - 1}; the first gets none. Every token but the last is fed here; the last is then prefilled as usual from
 * this state, whose logits give the first generated token, so the prompt is read once.
 */
final class PromptScoring implements AutoCloseable {
    /** Positions per pass: their logits are {@code CHUNK x vocabulary} floats (2B: 32 MB). */
    static final int CHUNK = 32;

    private final Model model;
    private final int[] prompt;
    private final int top;
    private final ModelState state;
    private final List<TokenLogprobs> entries = new ArrayList<>();
    private float[] host = new float[0];
    private int fed;

    /** @param prompt at least two tokens */
    PromptScoring(Model model, int[] prompt, int top) {
        if (prompt.length < 2) {
            throw new IllegalArgumentException("a prompt of " + prompt.length + " token has nothing to score");
        }
        this.model = model;
        this.prompt = prompt;
        this.top = top;
        this.state = model.newState(1);
        entries.add(TokenLogprobs.unscored(prompt[0]));
    }

    /**
     * Feeds the next chunk (every prompt token has its entry once {@link #done}).
     *
     * @return how many prompt tokens got their entry in this pass
     */
    int advance() {
        int n = Math.min(CHUNK, prompt.length - 1 - fed);
        Tensor logits = model.griffin().forward(state, Arrays.copyOfRange(prompt, fed, fed + n), n, Outputs.ALL);
        int vocab = model.config().vocabSize();
        if (host.length < n * vocab) {
            host = new float[Math.multiplyExact(CHUNK, vocab)];
        }
        model.backend().download(logits, host);
        int bad = Finite.firstNonFinite(host, 0, n * vocab);
        if (bad >= 0) {
            throw new NonFiniteException("the model computed " + Finite.describe(host[bad]) + " logits at prompt position "
                    + (fed + bad / vocab) + "; the weights or config.json are broken (`rg info --verify` scans the weights)");
        }
        for (int r = 0; r < n; r++) {
            entries.add(TokenLogprobs.of(host, r * vocab, vocab, prompt[fed + r + 1], top));
        }
        fed += n;
        return n;
    }

    boolean done() {
        return fed == prompt.length - 1;
    }

    /** The state after every token but the last (valid once {@link #done}). */
    ModelState state() {
        return state;
    }

    /** One entry per prompt token, the first {@link TokenLogprobs#unscored} (complete once {@link #done}). */
    List<TokenLogprobs> entries() {
        return entries;
    }

    @Override
    public void close() {
        state.close();
    }
}
