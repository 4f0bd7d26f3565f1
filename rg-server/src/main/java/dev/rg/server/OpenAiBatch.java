package dev.rg.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.generate.RowSeeds;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * OpenAI's Batch API input run in process: each line, {@code {"custom_id", "method": "POST", "url":
 * "/v1/chat/completions" | "/v1/completions" | "/v1/responses", "body": {...}}}, goes through {@code rg serve}'s own request parser and
 * scheduler (continuous batching, chunked prefill, the state cache for prompts that share a beginning) without HTTP,
 * and comes back as a line of OpenAI's batch output, {@code {"id", "custom_id", "response": {"status_code",
 * "request_id", "body"}, "error"}}. The body is what the endpoint would have answered; a request the endpoint would refuse
 * gets that status and OpenAI's error body, and the batch goes on. A line that is not a batch request at all (no
 * {@code custom_id}, another URL, no body) gets {@code "response": null} and an {@code "error"}.
 *
 * <p>Differences from the HTTP endpoints, because a batch is run by whoever chose the model: a body's {@code model} is
 * not checked (the input was likely written for another API), {@code stream} is refused (a row is written whole), and a
 * sampled request without a {@code seed} is seeded from its {@code custom_id} and the job's seed, so running a file
 * again gives the same rows.
 */
public final class OpenAiBatch implements AutoCloseable {
    /**
     * A finished line: its output line, whether it failed, and its usage (0 when it failed); {@code cachedTokens} of its
     * prompt tokens were resumed from the state cache.
     */
    public record Result(String line, boolean failed, long promptTokens, long completionTokens, long cachedTokens) {}

    private static final String CHAT_URL = "/v1/chat/completions";
    private static final String COMPLETIONS_URL = "/v1/completions";
    private static final String RESPONSES_URL = "/v1/responses";
    /** The endpoints a line may ask for. */
    public static final List<String> URLS = List.of(CHAT_URL, COMPLETIONS_URL, RESPONSES_URL);

    /** A parsed line: either ready to submit ({@link #result} null) or already answered (an error). */
    public final class Request {
        private final long line;
        private final String customId;
        private final boolean chat;
        /** The Responses API request it was read as, or null for a chat or text completion. */
        private final ResponsesRequest responses;
        private final List<CompletionRequest> prompts;
        private final Result result;

        private Request(long line, String customId, boolean chat, ResponsesRequest responses, List<CompletionRequest> prompts,
                Result result) {
            this.line = line;
            this.customId = customId;
            this.chat = chat;
            this.responses = responses;
            this.prompts = prompts;
            this.result = result;
        }

        /** The answer, when the line was answered without generating (it is not a request, or is refused); else null. */
        public Result result() {
            return result;
        }

        /** Its line in the input. */
        public long line() {
            return line;
        }

        /** Its {@code custom_id}, or null when the line had none. */
        public String customId() {
            return customId;
        }

        /** The sequences it runs (its prompts times their choices); 0 for an answered line. */
        public int sequences() {
            return prompts == null ? 0 : prompts.stream().mapToInt(CompletionRequest::choices).sum();
        }
    }

    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private final GemmaTokenizer tokenizer;
    private final OpenAiJson out;
    private final ResponsesJson responsesJson;
    private final RequestParser parser;
    private final Scheduler scheduler;
    private final long jobSeed;
    private final Set<Thread> collectors = ConcurrentHashMap.newKeySet();

    /** Whether the scheduler is this batch's own (closed with it) or a server's (shared with its clients). */
    private final boolean ownScheduler;
    private final int maxSequences;
    /** On a server with {@code --batch-when-idle}: requests start only while no client's request runs or waits. */
    private final boolean whenIdle;

    private OpenAiBatch(Scheduler scheduler, boolean ownScheduler, GemmaTokenizer tokenizer, ServerOptions options, long jobSeed) {
        this.tokenizer = tokenizer;
        this.out = new OpenAiJson(json, options.modelId());
        this.responsesJson = new ResponsesJson(json, options.modelId());
        this.parser = new RequestParser(json, tokenizer, options, false);
        this.jobSeed = jobSeed;
        this.scheduler = scheduler;
        this.ownScheduler = ownScheduler;
        this.maxSequences = options.maxSequences();
        this.whenIdle = options.batchWhenIdle();
    }

    /**
     * Starts the scheduler.
     *
     * @param options   the model's name (answered as the bodies' {@code model}), the sequences run at once, the state
     *                  cache and the prompt limit, as {@code rg serve} takes them; host, port and key are not used
     * @param jobSeed   mixed with a request's {@code custom_id} into its seed when its body has none
     */
    public static OpenAiBatch start(Model model, GemmaTokenizer tokenizer, ServerOptions options, long jobSeed) {
        return new OpenAiBatch(new Scheduler(model, tokenizer, options, new ServerMetrics()), true, tokenizer, options, jobSeed);
    }

    /**
     * A batch run on a server's scheduler beside its clients' requests ({@code /v1/batches}): {@link #submit} queues a
     * request only into slots nobody else waits for, and {@link #close} leaves the scheduler running.
     */
    static OpenAiBatch onServer(Engine engine, ServerOptions options, long jobSeed) {
        return new OpenAiBatch(engine.scheduler(), false, engine.tokenizer(), options, jobSeed);
    }

    /** Whether {@code line} looks like a batch request: a JSON object with {@code custom_id} and {@code body}. */
    public static boolean isBatchRequest(String line) {
        JsonNode node = parsedOrNull(new ObjectMapper(), line);
        return node != null && node.isObject() && node.has("custom_id") && node.has("body");
    }

    /**
     * Whether {@code outputLine} (a line an earlier run wrote) answers input {@code inputLine} (line {@code number}): the
     * same {@code custom_id}, or for an input without one, the same line number.
     */
    public boolean answers(long number, String inputLine, String outputLine) {
        JsonNode o = parsedOrNull(json, outputLine);
        if (o == null || !o.isObject()) {
            return false;
        }
        JsonNode in = inputLine == null ? null : parsedOrNull(json, inputLine);
        JsonNode id = in != null && in.isObject() ? in.get("custom_id") : null;
        if (id != null && id.isTextual()) {
            return id.equals(o.get("custom_id"));
        }
        return ("batch_req_" + number).equals(o.path("id").asText(null));
    }

    /** Line {@code number} of the input, parsed: a request to {@link #submit}, or its answer when it cannot be one. */
    public Request parse(long number, String text) {
        JsonNode node = parsedOrNull(json, text);
        if (node == null || !node.isObject()) {
            return answered(number, null, "line " + number + " is not a JSON object");
        }
        JsonNode id = node.get("custom_id");
        if (id == null || !id.isTextual() || id.textValue().isEmpty()) {
            return answered(number, null, "line " + number + ": \"custom_id\" must be a non-empty string");
        }
        String customId = id.textValue();
        JsonNode method = node.get("method");
        if (method != null && !(method.isTextual() && method.textValue().equals("POST"))) {
            return answered(number, customId, "line " + number + ": \"method\" must be \"POST\", got " + method);
        }
        JsonNode url = node.get("url");
        if (url == null || !url.isTextual() || !URLS.contains(url.textValue())) {
            return answered(number, customId, "line " + number + ": \"url\" must be one of " + String.join(", ", URLS)
                    + ", got " + (url == null ? "nothing" : url));
        }
        boolean chat = url.textValue().equals(CHAT_URL);
        boolean responses = url.textValue().equals(RESPONSES_URL);
        JsonNode body = node.get("body");
        if (body == null || !body.isObject()) {
            return answered(number, customId, "line " + number + ": \"body\" must be a JSON object (the request's body)");
        }
        ResponsesRequest asked = null;
        try {
            ObjectNode seeded;
            if (responses) {
                asked = ResponsesRequest.read(body, previous -> {
                    throw ApiException.badRequest("previous_response_id", "'previous_response_id' is not supported in a batch:"
                            + " each request stands alone (send the conversation as 'input')");
                });
                if (asked.stream) {
                    throw ApiException.badRequest("stream", "'stream' is not supported in a batch: each row is written whole");
                }
                seeded = asked.chatBody(json);
            } else {
                seeded = ((ObjectNode) body).deepCopy();
            }
            if (!seeded.hasNonNull("seed")) {
                seeded.put("seed", RowSeeds.of(jobSeed, customId));
            }
            List<CompletionRequest> prompts;
            try {
                prompts = parser.parse(seeded, chat || responses);
            } catch (ApiException e) {
                throw responses ? ResponsesRequest.renamed(e) : e;
            }
            if (prompts.get(0).stream()) {
                throw ApiException.badRequest("stream", "'stream' is not supported in a batch: each row is written whole");
            }

            return new Request(number, customId, chat, asked, prompts, null);
        } catch (ApiException e) {
            return new Request(number, customId, chat, asked, null, refused(number, customId, e));
        } catch (IllegalArgumentException | IllegalStateException e) {
            // what the endpoint answers with a 500 (a check the parser does not translate): this row's answer, not the job's end
            return new Request(number, customId, chat, asked, null, refused(number, customId, ApiException.internal("internal error: " + e)));
        }
    }

    /** The answer to line {@code number}, which could not be read ({@code error} says why). */
    public Result unreadable(long number, String error) {
        return answered(number, null, error).result;
    }

    /**
     * Queues {@code r} on the scheduler; {@code onDone} hears its result, from another thread, once all of its choices
     * have finished. Returns false, queuing nothing, when the scheduler has no room for it now (its running and waiting
     * sequences are full): the caller retries once others finish. A request that could never fit (more prompts than
     * the scheduler takes at once) was answered by {@link #parse}.
     */
    public boolean submit(Request r, Consumer<Result> onDone) {
        if (r.result != null) {
            throw new IllegalArgumentException("line " + r.line + " is already answered");
        }
        List<Generation> choices;
        try {
            // on a server, into free slots only; a request of more sequences than there are slots never fits them, and
            // queues as a client's would (its prompts are admitted one by one as slots free)
            choices = ownScheduler || r.sequences() > maxSequences ? scheduler.submit(r.prompts)
                    : whenIdle ? scheduler.submitWhenIdle(r.prompts) : scheduler.submitIntoFreeSlots(r.prompts);
        } catch (ApiException e) {
            if (e.status() == 429) {
                return false;
            }
            throw e;
        }
        if (choices == null) {
            return false;
        }
        Thread collector = Thread.ofVirtual().name("rg-batch-line-" + r.line).unstarted(() -> {
            Result result;
            try {
                String id = (r.responses != null ? "resp_" : r.chat ? "chatcmpl-" : "cmpl-") + "batch-" + r.line;
                long created = System.currentTimeMillis() / 1000;
                ObjectNode body = Replies.whole(choices, r.chat || r.responses != null, out, tokenizer, id, created);
                JsonNode usage = body.get("usage");
                if (r.responses != null) {
                    body = responsesJson.response(r.responses, id, "msg_batch-" + r.line, created,
                            body.at("/choices/0/finish_reason").asText(), body.at("/choices/0/message/content").asText(), (ObjectNode) usage);
                }
                result = new Result(line(r.line, r.customId, 200, body, null), false, usage.get("prompt_tokens").asLong(),
                        usage.get("completion_tokens").asLong(), usage.at("/prompt_tokens_details/cached_tokens").asLong());
            } catch (ApiException e) {
                result = refused(r.line, r.customId, e);
            } catch (RuntimeException | Error e) {
                result = refused(r.line, r.customId, ApiException.internal(dev.rg.core.io.OneLine.of(String.valueOf(e.getMessage()))));
            } finally {
                for (Generation g : choices) {
                    g.cancel(); // a failed choice's siblings leave the batch
                }
                scheduler.wake();
                collectors.remove(Thread.currentThread());
            }
            onDone.accept(result);
        });
        collectors.add(collector);
        collector.start();
        return true;
    }

    /**
     * Stops the scheduler when it is the batch's own; requests still running fail, and their results are not delivered
     * to anyone waiting.
     */
    @Override
    public void close() {
        if (ownScheduler) {
            scheduler.close();
        }
        for (Thread t : collectors) {
            t.interrupt();
        }
    }

    private Request answered(long number, String customId, String message) {
        ObjectNode error = json.createObjectNode().put("code", "invalid_request").put("message", message);
        return new Request(number, customId, false, null, null, new Result(line(number, customId, 0, null, error), true, 0, 0, 0));
    }

    private Result refused(long number, String customId, ApiException e) {
        return new Result(line(number, customId, e.status(), out.error(e), null), true, 0, 0, 0);
    }

    /** An output line: with a response ({@code status} > 0 and its body) or with {@code error}. */
    private String line(long number, String customId, int status, ObjectNode body, ObjectNode error) {
        ObjectNode o = json.createObjectNode();
        o.put("id", "batch_req_" + number);
        if (customId == null) {
            o.putNull("custom_id");
        } else {
            o.put("custom_id", customId);
        }
        if (status > 0) {
            ObjectNode response = o.putObject("response");
            response.put("status_code", status);
            response.put("request_id", "req_" + number);
            response.set("body", body);
        } else {
            o.putNull("response");
        }
        if (error == null) {
            o.putNull("error");
        } else {
            o.set("error", error);
        }
        return out.text(o);
    }

    private static JsonNode parsedOrNull(ObjectMapper json, String text) {
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
