package dev.rg.core.generate;

import dev.rg.core.model.Model;
import dev.rg.core.model.SavedState;
import dev.rg.core.model.StateFileException;
import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A multi-turn conversation with an instruction-tuned model in the Gemma turn format. Each turn feeds only
 * the new user turn: the model's state carries the history, so nothing is re-encoded and the cost of a turn
 * does not depend on how long the conversation is. A conversation can be {@linkplain #save saved} to a file and
 * {@linkplain #resume resumed} from it later, without processing its history again.
 */
public final class Chat implements AutoCloseable {
    /** The metadata key of a saved chat: the number of turns (a prompt state saved by other code has none). */
    static final String TURNS_KEY = "chat_turns";
    private final Model model;
    private final Session session;
    private final ChatTemplate template;
    private int turns;

    public Chat(Model model, GemmaTokenizer tokenizer) {
        this.model = model;
        this.session = new Session(model, tokenizer);
        this.template = new ChatTemplate(tokenizer);
    }

    /** Sends a user message and streams the model's reply. */
    public GenerationResult send(String userText, GenerationConfig config, TextSink sink) {
        if (userText.isBlank()) {
            throw new IllegalArgumentException("empty message");
        }
        int[] ids = turns == 0
                ? template.encode(List.of(ChatTemplate.Message.user(userText)), true)
                // the reply's closing <end_of_turn> is still pending (fed first by the session) when the model ended its turn
                : template.encodeNextUserTurn(userText, session.pendingToken() == template.endOfTurnId());
        long prefill = session.feed(ids);
        GenerationResult r = session.generate(config, sink);
        turns++;
        return new GenerationResult(ids.length, r.tokens(), r.text(), r.reason(), prefill, r.decodeNanos());
    }

    /** Turns so far. */
    public int turns() {
        return turns;
    }

    /** Tokens in the conversation so far. */
    public int position() {
        return session.position();
    }

    /** Writes the conversation to {@code file} (whole or not at all); nothing to save before the first turn. */
    public void save(Path file) {
        if (turns == 0) {
            throw new IllegalStateException("nothing to save: no turn yet");
        }
        session.save(file, Map.of(TURNS_KEY, Integer.toString(turns)));
    }

    /**
     * Continues the conversation saved in {@code file} (by {@link #save}, for this model): the next {@link #send} is its
     * next turn.
     *
     * @throws StateFileException if the file is not a chat saved for this model
     */
    public void resume(Path file) {
        SavedState saved = SavedState.read(file, model);
        String t = saved.extra().get(TURNS_KEY);
        int n;
        try {
            n = t == null ? 0 : Integer.parseInt(t);
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n < 1) {
            throw new StateFileException(file + ": a saved state but not a chat (metadata \"" + TURNS_KEY + "\" "
                    + (t == null ? "missing" : "is \"" + t + "\"") + ")");
        }
        session.restore(saved);
        turns = n;
    }

    /** Forgets the conversation. */
    public void reset() {
        session.reset();
        turns = 0;
    }

    @Override
    public void close() {
        session.close();
    }
}
