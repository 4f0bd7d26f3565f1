package dev.rg.core.generate;

import dev.rg.core.model.SavedState;
import dev.rg.core.model.StateFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * A prompt's state kept in a file ({@link SavedState}), so that a later prompt that starts with the same tokens (a
 * long instruction or document, then another question) processes only the tokens after them. The same prompt again
 * costs no forward pass at all: the file keeps the logits of its last token. A prompt that does not start with the
 * cached tokens is processed whole and replaces the file.
 *
 * <p>The file is only ever replaced by a state file: a file that is not one (a mistyped path onto a document, a
 * checkpoint) and a saved chat ({@code rg chat --session}) are refused, not overwritten. A state file of another
 * model or weight format is replaced, with a warning.
 */
public final class PromptCache {
    private PromptCache() {}

    /**
     * What {@link #feed} did.
     *
     * @param reused       prompt tokens taken from the file (0: none)
     * @param prefillNanos time spent processing the others
     * @param saved        whether the file was (re)written
     * @param warning      why an existing file was not used, or null
     */
    public record Result(int reused, long prefillNanos, boolean saved, String warning) {}

    /** Feeds {@code ids} into {@code session} (reset first), resuming from {@code file} where it can. */
    public static Result feed(Session session, int[] ids, Path file) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("empty prompt: at least one token is needed");
        }
        String warning = null;
        if (Files.exists(file)) {
            SavedState cached;
            try {
                cached = SavedState.read(file, session.model());
            } catch (StateFileException e) {
                if (!Files.isReadable(file) || !Files.isRegularFile(file)) {
                    throw e; // says why it cannot be opened
                }
                if (!SavedState.isStateFile(file)) {
                    throw new StateFileException(file + ": not an rg state file, so not a prompt cache; it is left as it is (give"
                            + " --prompt-cache a new file name)", e);
                }
                cached = null;
                warning = "prompt cache not used and replaced: " + e.getMessage();
            }
            if (cached != null && cached.extra().containsKey(Chat.TURNS_KEY)) {
                throw new StateFileException(file + ": a saved chat (rg chat --session), not a prompt cache; it is left as it is");
            }
            if (cached != null && cached.pending() < 0) {
                int[] tokens = cached.tokens();
                int n = tokens.length;
                if (n == ids.length && Arrays.equals(tokens, ids) && cached.logits() != null) {
                    session.restore(cached);
                    return new Result(n, 0, false, null);
                }
                if (n < ids.length && Arrays.equals(tokens, 0, n, ids, 0, n)) {
                    session.restore(cached);
                    long nanos = session.feed(Arrays.copyOfRange(ids, n, ids.length));
                    session.save(file, Map.of());
                    return new Result(n, nanos, true, null);
                }
            }
        }
        session.reset();
        long nanos = session.feed(ids);
        session.save(file, Map.of());
        return new Result(0, nanos, true, warning);
    }
}
