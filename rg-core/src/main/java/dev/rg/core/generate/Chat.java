package dev.rg.core.generate;

import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.List;

/**
 * A multi-turn conversation with an instruction-tuned model in the Gemma turn format. Each turn feeds only
 * the new user turn: the model's state carries the history, so nothing is re-encoded and the cost of a turn
 * does not depend on how long the conversation is.
 */
public final class Chat implements AutoCloseable {
    private final Session session;
    private final ChatTemplate template;
    private int turns;

    public Chat(Model model, GemmaTokenizer tokenizer) {
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
