package dev.rg.core.generate;

import dev.rg.api.tensor.Tensor;
import dev.rg.core.model.Griffin;
import java.util.List;

/**
 * A decode step and a prefill chunk in one forward pass: the two halves of continuous batching sharing one read of
 * the weights. Run apart, a server's iteration is a prefill pass ({@link PrefillBatch#advance}) and then a decode
 * pass ({@link BatchDecoder#stepOnBackend}), and each pass reads every weight once: where a pass is bound by that
 * read (a GPU, or a CPU with few rows) the iteration costs two reads; together it costs one, plus the rows. The
 * decoding sequences' next token then comes one pass after their last, not two, and a new prompt starts without
 * stalling them. The rows of the two are ragged (one token per decoding sequence, a chunk per prompt):
 * {@link Griffin#forwardTogether} runs the matmuls over all rows and the ops over time per state.
 *
 * <p>Each sequence's result is what the two calls apart give wherever the backend computes a matmul's row
 * independently of the other rows (bit for bit on the reference backend, {@code SharedPassTest}); the vector
 * backend's prefill tiles sum in an order that depends on the row count, so there a decoding row matches its
 * separate step within the kernel tolerance, as a row of a prefill batch already does.
 */
public final class SharedPass {
    private SharedPass() {
    }

    /**
     * Steps {@code decoder} (every member is fed its next token) and advances {@code prefills} by {@code length}
     * prompt tokens per row, in one forward pass. Returns the logits on the backend (valid until the next pass of
     * the decoder): a member's at row {@link BatchDecoder.Slot#row()}, a prompt's at row
     * {@link PrefillBatch.Row#row()}, the decoder's rows first.
     *
     * @throws IllegalArgumentException if the two run different models, a prompt has fewer than {@code length}
     *         tokens left, or the pass would exceed {@link Griffin#maxRowsTogether()} token-rows
     * @throws IllegalStateException    if either is empty or closed, or a member has no next token
     */
    public static Tensor stepAndPrefill(BatchDecoder decoder, PrefillBatch prefills, int length) {
        if (decoder.model() != prefills.model()) {
            throw new IllegalArgumentException("the decoder and the prefill batch run different models");
        }
        // checked here although the pass checks it too: before any token is consumed
        if (!fits(decoder.size(), prefills.size(), length)) {
            throw new IllegalArgumentException("a shared pass of " + ((long) decoder.size() + (long) prefills.size() * length)
                    + " token-rows; at most " + Griffin.maxRowsTogether());
        }
        Griffin.Part prefill = prefills.advancePart(length); // validates the chunk before the decoder consumes tokens
        Griffin.Part step = decoder.stepPart();
        Tensor out = decoder.model().griffin().forwardTogether(List.of(step, prefill));
        decoder.stepped(0);
        prefills.advanced(length, decoder.size());
        return out;
    }

    /** Whether a pass of {@code decoding} members and {@code prompts} x {@code length} prompt tokens fits one pass. */
    public static boolean fits(int decoding, int prompts, int length) {
        return (long) decoding + (long) prompts * length <= Griffin.maxRowsTogether();
    }
}
