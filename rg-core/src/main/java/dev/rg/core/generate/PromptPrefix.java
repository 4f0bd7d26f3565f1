package dev.rg.core.generate;

import dev.rg.api.backend.KernelArgs;
import dev.rg.core.model.Model;
import dev.rg.core.model.ModelState;
import dev.rg.core.model.Outputs;

/**
 * Tokens that many prompts start with (an instruction, a few worked examples), processed once: each prompt that
 * continues it starts from a copy of its state ({@link BatchGenerator#generate(java.util.List, GenerationConfig, long[],
 * PromptPrefix)}) and processes only its own tokens. A RecurrentGemma state has a fixed size, so a copy costs the same
 * however long the prefix is; a dataset job whose rows share a 1,000-token instruction prefills it once per executor
 * instead of once per row.
 *
 * <p>Read-only once built: generations on several threads may continue it at the same time. Close it to release its
 * state.
 */
public final class PromptPrefix implements AutoCloseable {
    private final Model model;
    private final int[] ids;
    private final ModelState state;

    private PromptPrefix(Model model, int[] ids, ModelState state) {
        this.model = model;
        this.ids = ids;
        this.state = state;
    }

    /** Processes {@code ids} (BOS first, as a prompt's) on {@code model}. */
    public static PromptPrefix of(Model model, int[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("empty prompt prefix");
        }
        try {
            KernelArgs.ids(ids, model.config().vocabSize()); // the forward pass's own check, before a state is allocated
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("prompt prefix: " + e.getMessage(), e);
        }
        ModelState state = model.newState(1);
        try {
            model.griffin().forward(state, ids, ids.length, Outputs.LAST);
        } catch (RuntimeException e) {
            state.close();
            throw e;
        }
        return new PromptPrefix(model, ids.clone(), state);
    }

    /** The prefix's token ids. */
    public int[] ids() {
        return ids.clone();
    }

    /** Tokens in the prefix. */
    public int length() {
        return ids.length;
    }

    /** The model it was processed on. */
    public Model model() {
        return model;
    }

    /** Copies the prefix's state into row {@code row} of {@code into} (same model). */
    void copyInto(ModelState into, int row) {
        into.copySequence(state, 0, row);
    }

    @Override
    public void close() {
        state.close();
    }
}
