package dev.rg.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.generate.ContinuousGenerator;
import dev.rg.core.generate.GenerationConfig;
import dev.rg.core.generate.GenerationResult;
import dev.rg.core.generate.RowSeeds;
import dev.rg.core.tokenizer.ChatMessages;
import dev.rg.core.tokenizer.ChatTemplate;
import java.util.Locale;

/**
 * {@code rg batch}'s work: JSON Lines in, one output line per input row, in input order. A row is a JSON string (the
 * prompt), an object with a {@code "prompt"} string, or an object with chat {@code "messages"}; its output is the object
 * (or {@code {"prompt": ...}}) with {@code completion}, {@code prompt_tokens}, {@code completion_tokens},
 * {@code finish_reason} and {@code error} added, the columns rg-spark adds. A row that cannot be generated for (not
 * JSON, no prompt, empty, too long, not UTF-8) gets its {@code error} and null results, and the job goes on. Up to
 * {@code batchSize} rows decode together through rg-core's {@link ContinuousGenerator}; a sampled row's seed comes from
 * the job seed and its key ({@link RowSeeds}), so its text does not depend on the batch size, its neighbours or its
 * place in the input, and equals rg-spark's for the same key.
 */
final class BatchJob {
    /** Where finished rows go; false once the reader has gone away (a closed pipe). */
    interface Sink {
        boolean write(String line);
    }

    /** What a run did. */
    record Totals(long rows, long errors, long promptTokens, long completionTokens, boolean stopped) {}

    private record Row(long line, ObjectNode fields, int[] ids, long seed, Integer promptTokens, String error, int bytes) {}

    /**
     * Rows that finished wait until every row before them is written (the output keeps the input's order): reading stops
     * while this many rows beyond the running ones, or this many bytes of rows, wait, so a long row at the head of the
     * input cannot make the job hold the rest of the file.
     */
    static final int MAX_WAITING_ROWS = 256;
    static final long MAX_WAITING_BYTES = 64L << 20;

    private final RecurrentGemma rg;
    private final GenerationConfig config;
    private final int batchSize;
    private final int maxPromptTokens;
    private final boolean chat;
    private final String keyField;
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    BatchJob(RecurrentGemma rg, GenerationConfig config, int batchSize, int maxPromptTokens, boolean chat, String keyField) {
        this.rg = rg;
        this.config = config;
        this.batchSize = batchSize;
        this.maxPromptTokens = maxPromptTokens;
        this.chat = chat;
        this.keyField = keyField;
    }

    /**
     * Runs every row of {@code in} into {@code out}, in input order; {@code progress} hears the rows written so far.
     * Rows are generated with continuous batching ({@link ContinuousGenerator}): up to {@code batchSize} decode
     * together and a finished row's slot takes the next prompt at once; rows that finish early wait (bounded, see
     * {@link #MAX_WAITING_ROWS}) until the rows before them are written.
     */
    Totals run(JsonlLines in, Sink out, java.util.function.LongConsumer progress) {
        Ordered ordered = new Ordered(out, progress);
        boolean finished = new ContinuousGenerator(rg.model(), rg.tokenizer()).run(new ContinuousGenerator.Source() {
            private boolean exhausted;

            @Override
            public ContinuousGenerator.Job next() {
                while (!exhausted && !ordered.full()) {
                    JsonlLines.Line line = in.next();
                    if (line == null) {
                        exhausted = true;
                        break;
                    }
                    Row row = parse(line);
                    long index = ordered.add(row);
                    if (row.error() == null) {
                        return new ContinuousGenerator.Job(index, row.ids(), row.seed());
                    }
                    if (!ordered.finish(index, null)) {
                        exhausted = true; // the reader has gone away: start nothing more
                    }
                }
                return null;
            }

            @Override
            public boolean exhausted() {
                return exhausted;
            }
        }, config, batchSize, ordered::finish);
        return new Totals(ordered.rows, ordered.errors, ordered.promptTokens, ordered.completionTokens,
                !finished || ordered.stopped);
    }

    /** Rows in input order: each gets its index when read and is written once it and every row before it are done. */
    private final class Ordered {
        private final Sink out;
        private final java.util.function.LongConsumer progress;
        private final java.util.Map<Long, Row> pending = new java.util.HashMap<>();
        private final java.util.Map<Long, ObjectNode> done = new java.util.HashMap<>();
        private long nextIndex;
        private long nextWrite;
        private long waitingBytes;
        long rows;
        long errors;
        long promptTokens;
        long completionTokens;
        boolean stopped;

        Ordered(Sink out, java.util.function.LongConsumer progress) {
            this.out = out;
            this.progress = progress;
        }

        long add(Row row) {
            pending.put(nextIndex, row);
            waitingBytes += row.bytes();
            return nextIndex++;
        }

        /** Whether rows read but not yet written reach the bound: read no more until the oldest is written. */
        boolean full() {
            return nextIndex - nextWrite >= batchSize + MAX_WAITING_ROWS || waitingBytes >= MAX_WAITING_BYTES;
        }

        /** Row {@code index} is done ({@code r} null for a row with an error); writes every row now in order. */
        boolean finish(long index, GenerationResult r) {
            done.put(index, output(pending.get(index), r));
            boolean wrote = false;
            while (!stopped && done.containsKey(nextWrite)) {
                ObjectNode o = done.remove(nextWrite);
                waitingBytes -= pending.remove(nextWrite).bytes();
                nextWrite++;
                rows++;
                if (!o.get("error").isNull()) {
                    errors++;
                }
                promptTokens += o.get("prompt_tokens").asLong(0);
                completionTokens += o.get("completion_tokens").asLong(0);
                wrote = true;
                if (!out.write(o.toString())) {
                    stopped = true;
                }
            }
            if (wrote) {
                progress.accept(rows);
            }
            return !stopped;
        }
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

    private Row parse(JsonlLines.Line line) {
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
        int[] ids = chat ? Prompts.chatIds(rg.tokenizer(), text) : withBos(rg.tokenize(text));
        if (ids.length > maxPromptTokens) {
            return failed(n, fields, ids.length, "line " + n + ": the prompt has " + ids.length + " tokens (BOS included), more"
                    + " than --max-prompt-tokens " + maxPromptTokens, line.text().length());
        }
        return new Row(n, fields, ids, RowSeeds.of(config.sampling().seed(), key(fields, text)), ids.length, null,
                line.text().length());
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
            return new Row(n, fields, ids, RowSeeds.of(config.sampling().seed(), key(fields, messages.toString())), ids.length,
                    null, bytes);
        } catch (ChatMessages.InvalidMessage e) {
            return failed(n, fields, null, "line " + n + ": " + e.getMessage(), bytes);
        }
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

    private int[] withBos(int[] body) {
        int[] ids = new int[body.length + 1];
        ids[0] = rg.model().config().bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    private static Row failed(long line, ObjectNode fields, Integer promptTokens, String error, int bytes) {
        return new Row(line, fields, null, 0, promptTokens, error, bytes);
    }

    /** A row's output object: its fields (or its line number) with the results, or its error, added. */
    private ObjectNode output(Row row, GenerationResult r) {
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
