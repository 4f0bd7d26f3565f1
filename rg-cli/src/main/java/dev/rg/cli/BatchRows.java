package dev.rg.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.generate.RowSeeds;
import dev.rg.core.tokenizer.ChatMessages;
import dev.rg.core.tokenizer.ChatTemplate;
import java.util.Locale;

/**
 * {@code rg batch}'s rows: an input line turned into token ids and a seed, or into the reason it has none, and a
 * finished row turned into its output object (the input's fields with rg-spark's result columns added).
 */
final class BatchRows {
    /**
     * One input row: its line number, its fields (null when the line was not a JSON object or string), its prompt's ids
     * and seed, or its error; {@code bytes} is what keeping it costs, roughly.
     */
    record Row(long line, ObjectNode fields, int[] ids, long seed, Integer promptTokens, String error, int bytes, int maxTokens) {}

    private final RecurrentGemma rg;
    private final GenerationConfig config;
    private final int maxPromptTokens;
    private final boolean chat;
    private final String keyField;
    /** Tokens of the prompt prefix every row continues (BOS included), or 0 without one. */
    private final int prefixTokens;
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** @param prefixTokens tokens of the prompt prefix every row continues (BOS included; 0 = none) */
    BatchRows(RecurrentGemma rg, GenerationConfig config, int maxPromptTokens, boolean chat, String keyField, int prefixTokens) {
        this.prefixTokens = prefixTokens;
        this.rg = rg;
        this.config = config;
        this.maxPromptTokens = maxPromptTokens;
        this.chat = chat;
        this.keyField = keyField;
    }

    /** The fields a row gets; an input's own fields of these names are replaced. */
    private static final java.util.Set<String> RESULT_FIELDS = java.util.Set.of("completion", "prompt_tokens",
            "completion_tokens", "finish_reason", "error");

    /**
     * Whether {@code keptRow}, a row an earlier run wrote, is this job's row for input {@code line}: a string line's
     * prompt, or an object line's own fields, are in it unchanged; a line that was neither is named by its number.
     * What {@code --resume} checks before it skips the input's rows, so a changed input is not resumed into a mix.
     */
    boolean produced(JsonlLines.Line line, String keptRow) {
        JsonNode out = parsedOrNull(keptRow);
        if (out == null || !out.isObject()) {
            return false;
        }
        JsonNode in = line.text() == null ? null : parsedOrNull(line.text());
        if (in != null && in.isTextual()) {
            return in.equals(out.get("prompt"));
        }
        if (in != null && in.isObject()) {
            for (var field : in.properties()) {
                if (!RESULT_FIELDS.contains(field.getKey()) && !field.getValue().equals(out.get(field.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        return out.path("line").asLong(-1) == line.number();
    }

    /** {@code text} parsed as this job parses rows, or null when it is not (strict) JSON. */
    private JsonNode parsedOrNull(String text) {
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    Row parse(JsonlLines.Line line) {
        long n = line.number();
        if (line.error() != null) {
            return failed(n, null, null, line.error(), 0);
        }
        JsonNode node;
        try {
            node = json.readTree(line.text());
        } catch (JsonProcessingException e) {
            return failed(n, null, null, "line " + n + " is not JSON: " + dev.rg.core.io.OneLine.of(e.getOriginalMessage()),
                    line.text().length());
        }
        ObjectNode fields;
        if (node.isTextual()) {
            fields = json.createObjectNode().put("prompt", node.textValue());
        } else if (node.isObject()) {
            fields = (ObjectNode) node;
        } else {
            return failed(n, null, null, "line " + n + ": expected a JSON string (the prompt) or an object with a \"prompt\""
                    + " string or \"messages\", got " + node.getNodeType().name().toLowerCase(Locale.ROOT), line.text().length());
        }
        JsonNode p = fields.get("prompt");
        JsonNode messages = fields.get("messages");
        if (messages != null) {
            if (prefixTokens > 0) {
                return failed(n, fields, null, "line " + n + ": a \"messages\" row cannot continue --prompt-prefix (the chat"
                        + " template wraps it)", line.text().length());
            }
            if (p != null) {
                return failed(n, fields, null, "line " + n + ": give either \"prompt\" or \"messages\", not both",
                        line.text().length());
            }
            return conversation(n, fields, messages, line.text().length());
        }
        if (p == null || !p.isTextual()) {
            return failed(n, fields, null, "line " + n + ": no \"prompt\" string or \"messages\" array" + (p == null ? "" : " (the prompt is "
                    + p.getNodeType().name().toLowerCase(Locale.ROOT) + ")"), line.text().length());
        }
        if (p.textValue().isEmpty()) {
            return failed(n, fields, null, "line " + n + ": the prompt is empty", line.text().length());
        }
        String text = Prompts.clean(p.textValue(), "prompt");
        // after a prefix, the row's own tokens: the prefix has the BOS
        int[] ids = chat ? Prompts.chatIds(rg.tokenizer(), text) : prefixTokens > 0 ? rg.tokenize(text) : rg.withBos(rg.tokenize(text));
        int total = ids.length + prefixTokens;
        if (total > maxPromptTokens) {
            return failed(n, fields, total, "line " + n + ": the prompt has " + total + " tokens (BOS" + (prefixTokens > 0
                    ? " and the prompt prefix's " + prefixTokens : "") + " included), more than --max-prompt-tokens " + maxPromptTokens,
                    line.text().length());
        }
        return withBudget(new Row(n, fields, ids, RowSeeds.of(config.sampling().seed(), key(fields, text)), total, null,
                line.text().length(), 0));
    }

    /**
     * A {@code "messages"} row: chat-API messages ({@code role}, {@code content} strings), folded into Gemma turns as the
     * server's chat endpoint folds them ({@link ChatMessages}), ending with the model's turn to answer.
     */
    private Row conversation(long n, ObjectNode fields, JsonNode messages, int bytes) {
        if (!messages.isArray() || messages.isEmpty()) {
            return failed(n, fields, null, "line " + n + ": \"messages\" must be a non-empty array of {role, content}", bytes);
        }
        ChatMessages folder = new ChatMessages("messages");
        try {
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                String where = "messages[" + i + "]";
                if (!m.isObject() || !m.path("role").isTextual() || !m.path("content").isTextual()) {
                    return failed(n, fields, null, "line " + n + ": " + where + " must be an object with \"role\" and \"content\""
                            + " strings", bytes);
                }
                folder.add(m.get("role").textValue(), Prompts.cleanAllowEmpty(m.get("content").textValue()), where);
            }
            int[] ids = new ChatTemplate(rg.tokenizer()).encode(folder.fold().turns(), true);
            if (ids.length > maxPromptTokens) {
                return failed(n, fields, ids.length, "line " + n + ": the conversation has " + ids.length + " tokens, more than"
                        + " --max-prompt-tokens " + maxPromptTokens, bytes);
            }
            return withBudget(new Row(n, fields, ids, RowSeeds.of(config.sampling().seed(), key(fields, messages.toString())),
                    ids.length, null, bytes, 0));
        } catch (ChatMessages.InvalidMessage e) {
            return failed(n, fields, null, "line " + n + ": " + e.getMessage(), bytes);
        }
    }

    /** A row's own {@code "max_tokens"} (a whole number in [1, 100000000]), if it has one, instead of {@code -n}. */
    private Row withBudget(Row row) {
        JsonNode budget = row.fields().get("max_tokens");
        if (budget == null || budget.isNull()) {
            return row;
        }
        if (!budget.isIntegralNumber() || !budget.canConvertToInt() || budget.intValue() < 1
                || budget.intValue() > GenerationConfig.MAX_TOKENS_LIMIT) {
            return failed(row.line(), row.fields(), row.promptTokens(), "line " + row.line() + ": \"max_tokens\" must be a whole"
                    + " number in [1, " + GenerationConfig.MAX_TOKENS_LIMIT + "], got " + budget, row.bytes());
        }
        return new Row(row.line(), row.fields(), row.ids(), row.seed(), row.promptTokens(), null, row.bytes(), budget.intValue());
    }

    /** The row's key for its seed: the key field (a whole number, a string, else its JSON text), or the prompt (the messages' JSON). */
    private Object key(ObjectNode fields, String prompt) {
        JsonNode k = fields.get(keyField);
        if (k == null || k.isNull()) {
            return prompt;
        }
        if (k.isIntegralNumber() && k.canConvertToLong()) {
            return k.longValue();
        }
        return k.isTextual() ? k.textValue() : k.toString();
    }

    private static Row failed(long line, ObjectNode fields, Integer promptTokens, String error, int bytes) {
        return new Row(line, fields, null, 0, promptTokens, error, bytes, 0);
    }

    /** A row's output object: its fields (or its line number) with the results, or its error, added. */
    ObjectNode output(Row row, GenerationResult r) {
        ObjectNode o = row.fields() != null ? row.fields() : json.createObjectNode().put("line", row.line());
        if (r != null) {
            o.put("completion", r.text());
            o.put("prompt_tokens", r.promptTokens());
            o.put("completion_tokens", r.tokens().length);
            o.put("finish_reason", r.reason().name().toLowerCase(Locale.ROOT));
        } else {
            o.putNull("completion");
            if (row.promptTokens() != null) {
                o.put("prompt_tokens", row.promptTokens());
            } else {
                o.putNull("prompt_tokens");
            }
            o.putNull("completion_tokens");
            o.putNull("finish_reason");
        }
        if (row.error() != null) {
            o.put("error", row.error());
        } else {
            o.putNull("error");
        }
        return o;
    }
}
