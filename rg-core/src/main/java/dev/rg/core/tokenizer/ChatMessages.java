package dev.rg.core.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Chat-API messages (OpenAI's roles) folded into Gemma turns, message by message: Gemma has only {@code user} and
 * {@code model} turns, so {@code system} and {@code developer} text goes at the start of the next user turn (or
 * becomes a user turn of its own at the end), {@code assistant} is {@code model}, and two turns of one role in a row
 * merge into one. The conversation must start and end with a user turn (the model answers the last). Shared by the
 * server's chat endpoint and {@code rg batch}'s {@code "messages"} rows, so both render a conversation alike.
 */
public final class ChatMessages {
    /** A message that cannot be folded: {@link #param()} names it (e.g. {@code messages[2].role}) for the caller's error. */
    public static final class InvalidMessage extends IllegalArgumentException {
        private final String param;

        InvalidMessage(String param, String message) {
            super(message);
            this.param = param;
        }

        /** The offending field, as a request names it. */
        public String param() {
            return param;
        }
    }

    /**
     * The folded conversation.
     *
     * @param turns        user and model turns, alternating, user first and last
     * @param systemLength characters of system text (with its separator) at the start of the first user turn's content
     */
    public record Folded(List<ChatTemplate.Message> turns, int systemLength) {}

    private final String name;
    private final List<ChatTemplate.Message> turns = new ArrayList<>();
    private final StringBuilder system = new StringBuilder();
    private int systemLength;

    /** @param name what the messages are called in errors ({@code messages}) */
    public ChatMessages(String name) {
        this.name = name;
    }

    /**
     * Adds the next message.
     *
     * @param where how errors name it, e.g. {@code messages[3]}
     * @throws InvalidMessage for a role other than system, developer, user, assistant or model
     */
    public void add(String role, String content, String where) {
        switch (role) {
            case "system", "developer" -> system.append(system.isEmpty() ? "" : "\n\n").append(content);
            case "user" -> {
                if (turns.isEmpty() && !system.isEmpty()) {
                    systemLength = system.length() + 2;
                }
                String text = system.isEmpty() ? content : system + "\n\n" + content;
                system.setLength(0);
                append(ChatTemplate.Role.USER, text);
            }
            case "assistant", "model" -> append(ChatTemplate.Role.MODEL, content);
            default -> throw new InvalidMessage(where + ".role", where + ".role must be system, developer, user or assistant, got '"
                    + role + "'");
        }
    }

    /**
     * The turns, once every message is added.
     *
     * @throws InvalidMessage when there are none, or the first or last is not the user's
     */
    public Folded fold() {
        if (!system.isEmpty()) {
            append(ChatTemplate.Role.USER, system.toString());
            system.setLength(0);
        }
        if (turns.isEmpty()) {
            throw new InvalidMessage(name, "'" + name + "' must be a non-empty array of {role, content}");
        }
        if (turns.getFirst().role() != ChatTemplate.Role.USER) {
            throw new InvalidMessage(name, "the conversation must start with a user (or system) message");
        }
        if (turns.getLast().role() != ChatTemplate.Role.USER) {
            throw new InvalidMessage(name, "the last message must be from the user (the model answers it)");
        }
        return new Folded(List.copyOf(turns), systemLength);
    }

    /** Adds a turn, merging it into the previous one when the same role speaks twice in a row. */
    private void append(ChatTemplate.Role role, String text) {
        if (!turns.isEmpty() && turns.getLast().role() == role) {
            ChatTemplate.Message last = turns.removeLast();
            turns.add(new ChatTemplate.Message(role, last.content() + "\n\n" + text));
        } else {
            turns.add(new ChatTemplate.Message(role, text));
        }
    }
}
