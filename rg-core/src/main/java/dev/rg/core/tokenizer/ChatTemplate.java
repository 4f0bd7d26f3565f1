package dev.rg.core.tokenizer;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Gemma chat prompts as token ids, for the instruction-tuned RecurrentGemma models.
 *
 * <p>{@link #encode(List, boolean)} renders Gemma's Hugging Face chat template:
 * <pre>
 * &lt;bos&gt;&lt;start_of_turn&gt;user\n{content.strip()}&lt;end_of_turn&gt;\n&lt;start_of_turn&gt;model\n{...}&lt;end_of_turn&gt;\n...
 * [&lt;start_of_turn&gt;model\n]   (with addGenerationPrompt)
 * </pre>
 * The template writes the <em>text</em> {@code <bos>}, which HF turns into id 2 because it is a special added
 * token; SentencePiece would encode the text as ordinary pieces. So this class emits {@link GemmaTokenizer#bosId()}
 * itself and encodes only the rest. Roles are {@code user} and {@code model} ({@code assistant} is accepted as
 * an alias, as the template does), strictly alternating and starting with {@code user}. There is no system
 * role; Google's guidance is to put system instructions into the first user turn. Each content is stripped
 * with Python's {@code str.strip()} semantics (Jinja's {@code trim}), see {@link PythonWhitespace}.
 *
 * <p>{@link #encodeSingleTurn(String)} is RecurrentGemma's own {@code apply_it_formatter}, which does not strip.
 *
 * <p>{@link #encodeNextUserTurn(String, boolean)} continues a conversation whose state is kept (the recurrent
 * state and KV cache of the previous turns), see its comment.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ChatTemplate {
    /** The text of the turn markers; ids come from the tokenizer (106 and 107 in Gemma). */
    public static final String START_OF_TURN = "<start_of_turn>";
    public static final String END_OF_TURN = "<end_of_turn>";

    /** A speaker in a Gemma conversation. */
    public enum Role {
        USER("user"),
        MODEL("model");

        private final String templateName;

        Role(String templateName) {
            this.templateName = templateName;
        }

        /** The name written after {@code <start_of_turn>}. */
        public String templateName() {
            return templateName;
        }

        /**
         * The role for a chat-API role name: {@code user}, {@code model}, or {@code assistant} (an alias of
         * {@code model}).
         *
         * @throws IllegalArgumentException for {@code system} (not supported by Gemma) or any other name
         */
        public static Role of(String name) {
            Objects.requireNonNull(name, "role");
            return switch (name) {
                case "user" -> USER;
                case "model", "assistant" -> MODEL;
                case "system" -> throw new IllegalArgumentException("System role not supported: Gemma has no "
                        + "system turn; put the instructions at the start of the first user message");
                default -> throw new IllegalArgumentException("unknown chat role '" + name
                        + "'; Gemma supports 'user' and 'model' (alias 'assistant')");
            };
        }
    }

    /** One message of a conversation. */
    public record Message(Role role, String content) {
        public Message {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(content, "content");
        }

        /** A message with a chat-API role name; see {@link Role#of(String)}. */
        public static Message of(String role, String content) {
            return new Message(Role.of(role), content);
        }

        public static Message user(String content) {
            return new Message(Role.USER, content);
        }

        public static Message model(String content) {
            return new Message(Role.MODEL, content);
        }
    }

    private final GemmaTokenizer tokenizer;
    private final int startOfTurnId;
    private final int endOfTurnId;

    /**
     * A template that encodes with {@code tokenizer}.
     *
     * @throws TokenizerException if the tokenizer lacks a BOS id or the turn-marker pieces
     */
    public ChatTemplate(GemmaTokenizer tokenizer) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        if (tokenizer.bosId() < 0) {
            throw new TokenizerException(tokenizer.source() + ": no BOS piece; a Gemma chat prompt starts with BOS");
        }
        this.startOfTurnId = markerId(tokenizer, START_OF_TURN);
        this.endOfTurnId = markerId(tokenizer, END_OF_TURN);
    }

    private static int markerId(GemmaTokenizer tokenizer, String marker) {
        int[] ids = tokenizer.encode(marker);
        if (ids.length != 1) {
            throw new TokenizerException(tokenizer.source() + ": '" + marker + "' is not a single user-defined piece;"
                    + " not a Gemma chat tokenizer");
        }
        return ids[0];
    }

    /** The id of {@code <start_of_turn>} (106 in Gemma). */
    public int startOfTurnId() {
        return startOfTurnId;
    }

    /**
     * The id of {@code <end_of_turn>} (107 in Gemma). Instruction-tuned models end their reply with it, so
     * generation should stop on it as well as on {@link GemmaTokenizer#eosId()}.
     */
    public int endOfTurnId() {
        return endOfTurnId;
    }

    /**
     * The template's text after its leading {@code <bos>}.
     *
     * @throws IllegalArgumentException if {@code messages} is empty or the roles do not alternate from user
     */
    public static String render(List<Message> messages, boolean addGenerationPrompt) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a conversation needs at least one message");
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            Role expected = i % 2 == 0 ? Role.USER : Role.MODEL;
            if (m.role() != expected) {
                throw new IllegalArgumentException("Conversation roles must alternate user/model/user/model/... "
                        + "starting with user; message " + i + " has role " + m.role().templateName());
            }
            appendTurn(sb, m.role(), PythonWhitespace.strip(m.content()));
        }
        if (addGenerationPrompt) {
            sb.append(START_OF_TURN).append(Role.MODEL.templateName()).append('\n');
        }
        return sb.toString();
    }

    /** BOS followed by the encoded {@link #render(List, boolean)} text; matches HF's chat template ids. */
    public int[] encode(List<Message> messages, boolean addGenerationPrompt) {
        return withBos(tokenizer.encode(render(messages, addGenerationPrompt)));
    }

    /**
     * RecurrentGemma's {@code apply_it_formatter} for one user input, with BOS as its sampler adds it:
     * {@code [bos] + encode("<start_of_turn>user\n" + input + "<end_of_turn>\n<start_of_turn>model\n")}. The
     * input is not stripped.
     */
    public int[] encodeSingleTurn(String input) {
        StringBuilder sb = new StringBuilder();
        appendTurn(sb, Role.USER, input);
        sb.append(START_OF_TURN).append(Role.MODEL.templateName()).append('\n');
        return withBos(tokenizer.encode(sb.toString()));
    }

    /**
     * The ids to feed after a model reply so that the conversation continues with one more user turn and a new
     * model turn, when the state of everything before is kept.
     *
     * <p>In the full template the reply is followed by {@code <end_of_turn>\n<start_of_turn>user\n{content}
     * <end_of_turn>\n<start_of_turn>model\n}. The reply itself ends when the model samples {@code <end_of_turn>}
     * (107). A generation loop usually stops <em>without</em> feeding that sampled id back through the model, so
     * the state has not seen it: pass {@code endOfTurnAlreadyFed = false} and the result starts with 107. If the
     * loop did feed it, pass {@code true} and the result starts with the newline (108). If the reply stopped for
     * another reason (token limit, EOS), the model's turn is still open: pass {@code false} so it gets closed.
     *
     * <p>Because {@code <end_of_turn>} is a frozen user-defined piece, nothing merges across it, so these ids are
     * exactly the tail of {@code encode(conversation + [user(content)], true)} whenever the reply's ids equal
     * the encoding of its stripped text. (Unlike a re-rendered conversation, this keeps the reply as generated,
     * including any whitespace the template would have stripped, because that is what the state has seen.)
     */
    public int[] encodeNextUserTurn(String content, boolean endOfTurnAlreadyFed) {
        StringBuilder sb = new StringBuilder(END_OF_TURN).append('\n');
        appendTurn(sb, Role.USER, PythonWhitespace.strip(content));
        sb.append(START_OF_TURN).append(Role.MODEL.templateName()).append('\n');
        int[] ids = tokenizer.encode(sb.toString());
        return endOfTurnAlreadyFed ? Arrays.copyOfRange(ids, 1, ids.length) : ids;
    }

    private static void appendTurn(StringBuilder sb, Role role, String content) {
        sb.append(START_OF_TURN).append(role.templateName()).append('\n').append(content).append(END_OF_TURN)
                .append('\n');
    }

    private int[] withBos(int[] ids) {
        int[] out = new int[ids.length + 1];
        out[0] = tokenizer.bosId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
