package dev.rg.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rg.core.generate.SamplingParams;
import dev.rg.core.generate.TokenLogprobs;
import dev.rg.core.tokenizer.ChatMessages;
import dev.rg.core.tokenizer.ChatTemplate;
import dev.rg.core.tokenizer.GemmaTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns an OpenAI request body into {@link CompletionRequest}s (one per prompt: a completions request may carry
 * several), or an {@link ApiException} naming the parameter that is wrong and what was expected. Unknown fields are
 * ignored, as OpenAI-compatible servers do; known features rg does not have (tools, JSON schemas, ...) are refused
 * clearly rather than silently ignored.
 */
final class RequestParser {
    /** Without max_tokens a reply ends after this many tokens (the state is fixed-size, so the model could go on). */
    static final int DEFAULT_MAX_TOKENS = 256;
    private static final int MAX_STOPS = 4;
    /** OpenAI's bound on the legacy completions' {@code logprobs}: at most 5 alternatives per token. */
    static final int MAX_COMPLETION_LOGPROBS = 5;

    private final ObjectMapper json;
    private final GemmaTokenizer tokenizer;
    private final ChatTemplate template;
    private final ServerOptions options;
    /** Whether a body's {@code model} must name this server's model (404 otherwise). */
    private final boolean checkModel;

    RequestParser(ObjectMapper json, GemmaTokenizer tokenizer, ServerOptions options) {
        this(json, tokenizer, options, true);
    }

    /**
     * @param checkModel false where the model was chosen another way and a body's {@code model} names what its file was
     *                   written for ({@link OpenAiBatch}: a batch input made for another API)
     */
    RequestParser(ObjectMapper json, GemmaTokenizer tokenizer, ServerOptions options, boolean checkModel) {
        this.json = json;
        this.tokenizer = tokenizer;
        this.template = new ChatTemplate(tokenizer);
        this.options = options;
        this.checkModel = checkModel;
    }

    /**
     * Parses the body of /v1/chat/completions ({@code chat}) or /v1/completions: one request per prompt, in the order
     * given (a chat has one; a completions {@code prompt} may be an array of prompts), all with the same parameters.
     */
    List<CompletionRequest> parse(byte[] body, boolean chat) {
        return parse(tree(json, body), chat);
    }

    /** {@link #parse(byte[], boolean)} of a body already read (a batch line's, one built from a Responses request). */
    List<CompletionRequest> parse(JsonNode body, boolean chat) {
        JsonNode root = root(body);
        refuseUnsupported(root, chat);
        List<Prompt> prompts = chat ? List.of(chatPrompt(root)) : textPrompts(root);
        for (int i = 0; i < prompts.size(); i++) {
            int length = prompts.get(i).ids().length;
            if (length > options.maxPromptTokens()) {
                throw ApiException.tooLarge(chat ? "messages" : "prompt", (prompts.size() > 1 ? "prompt " + i : "the prompt")
                        + " has " + length + " tokens, more than this server's limit of " + options.maxPromptTokens()
                        + " (--max-prompt-tokens)");
            }
        }
        boolean echo = !chat && bool(root, "echo", false);
        int maxTokens = maxTokens(root, echo ? 0 : 1);
        float temperature = number(root, "temperature", 1f, 0f, 2f);
        float topP = number(root, "top_p", 1f, Float.MIN_VALUE, 1f);
        float minP = number(root, "min_p", 0f, 0f, 0.999f);
        float repetition = number(root, "repetition_penalty", 1f, 0.01f, 100f);
        int topK = integer(root, "top_k", 0, 0, Integer.MAX_VALUE);
        long seed = present(root.get("seed")) ? longValue(root, "seed") : ThreadLocalRandom.current().nextLong();
        float frequency = number(root, "frequency_penalty", 0f, -2f, 2f);
        float presence = number(root, "presence_penalty", 0f, -2f, 2f);
        boolean stream = bool(root, "stream", false);
        JsonNode so = root.get("stream_options");
        boolean includeUsage = present(so) && so.isObject() && bool(so, "include_usage", false);
        int[] logprobs = chat ? chatLogprobs(root) : completionLogprobs(root);
        int choices = choices(root, echo);
        SamplingParams sampling = new SamplingParams(temperature, topK, topP, minP, repetition, seed);
        List<String> stops = stops(root);
        boolean ignoreEos = bool(root, "ignore_eos", false);
        LogitBias bias = LogitBias.parse(root.get("logit_bias"), tokenizer.vocabSize());
        boolean json = jsonMode(root);
        List<CompletionRequest> requests = new ArrayList<>(prompts.size());
        for (Prompt parsed : prompts) {
            requests.add(new CompletionRequest(chat, parsed.ids(), maxTokens, sampling, frequency, presence, stops, stream,
                    includeUsage, ignoreEos, logprobs != null, logprobs == null ? 0 : logprobs[0], echo, bias, choices, json,
                    options.stateCacheBytes() > 0 ? parsed.keepAt() : new int[0]));
        }
        return requests;
    }

    /** A request body read as JSON; 400 when it is not JSON. */
    static JsonNode tree(ObjectMapper json, byte[] body) {
        try {
            return json.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "the request body is not valid JSON: " + dev.rg.core.io.OneLine.of(e.getOriginalMessage()));
        } catch (java.io.IOException e) {
            throw ApiException.badRequest(null, "the request body could not be read: " + e.getMessage());
        }
    }

    /** The body as a JSON object whose {@code model}, if given, is this server's. */
    private JsonNode root(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest(null, "the request body must be a JSON object");
        }
        JsonNode model = root.get("model");
        if (present(model)) {
            if (!model.isTextual()) {
                throw ApiException.badRequest("model", "'model' must be a string");
            }
            if (checkModel && !model.asText().equals(options.modelId())) {
                throw ApiException.notFound("model", "model_not_found", "The model '" + model.asText()
                        + "' does not exist; this server serves '" + options.modelId() + "'");
            }
        }
        return root;
    }

    /**
     * POST /tokenize (vLLM's extension): the token ids a completions {@code prompt} (a string; BOS first unless
     * {@code "add_special_tokens": false}) or a chat's {@code messages} become, exactly as the completion endpoints
     * prefill them, so a client can count tokens against {@code --max-prompt-tokens} before it sends a request.
     */
    int[] tokenizeRequest(byte[] body) {
        JsonNode root = root(tree(json, body));
        boolean hasPrompt = present(root.get("prompt"));
        if (hasPrompt == present(root.get("messages"))) {
            throw ApiException.badRequest(hasPrompt ? "messages" : "prompt", "give either 'prompt' (a string) or 'messages'");
        }
        if (!hasPrompt) {
            return chatPrompt(root).ids();
        }
        JsonNode p = root.get("prompt");
        if (!p.isTextual()) {
            throw ApiException.badRequest("prompt", "'prompt' must be a string, got " + abbreviate(p.toString()));
        }
        int[] ids = tokenizer.encode(p.asText());
        return bool(root, "add_special_tokens", true) ? withBos(ids) : ids;
    }

    /** BOS, then {@code body}: how a completions prompt is prefilled. */
    private int[] withBos(int[] body) {
        int[] ids = new int[body.length + 1];
        ids[0] = tokenizer.bosId();
        System.arraycopy(body, 0, ids, 1, body.length);
        return ids;
    }

    /** POST /detokenize: {@code {"tokens": [ids]}}, each id in the vocabulary. */
    int[] detokenizeRequest(byte[] body) {
        JsonNode tokens = root(tree(json, body)).get("tokens");
        if (!present(tokens) || !tokens.isArray()) {
            throw ApiException.badRequest("tokens", "'tokens' must be an array of token ids");
        }
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = tokens.get(i);
            if (!id.isInt() || id.asInt() < 0 || id.asInt() >= tokenizer.vocabSize()) {
                throw ApiException.badRequest("tokens", "tokens[" + i + "] must be a token id in [0, " + tokenizer.vocabSize()
                        + "), got " + abbreviate(id.toString()));
            }
            ids[i] = id.asInt();
        }
        return ids;
    }

    /** A prompt's token ids and where its state is worth keeping besides its end ({@link PromptMarks}). */
    private record Prompt(int[] ids, int[] keepAt) {}

    /** Chat: {@code logprobs} true or false, {@code top_logprobs} 0..20 and only with it; null when off, else {top}. */
    private static int[] chatLogprobs(JsonNode root) {
        boolean on = bool(root, "logprobs", false);
        JsonNode top = root.get("top_logprobs");
        if (present(top) && !on) {
            throw ApiException.badRequest("top_logprobs", "'top_logprobs' needs 'logprobs': true");
        }
        return on ? new int[] {integer(root, "top_logprobs", 0, 0, TokenLogprobs.MAX_TOP)} : null;
    }

    /** Completions: {@code logprobs} null (off) or the number of alternatives, 0..5; null when off, else {top}. */
    private static int[] completionLogprobs(JsonNode root) {
        JsonNode n = root.get("logprobs");
        if (!present(n) || (n.isBoolean() && !n.asBoolean())) {
            return null;
        }
        return new int[] {integer(root, "logprobs", 0, 0, MAX_COMPLETION_LOGPROBS)};
    }

    /**
     * {@code n}: choices per request, each a sequence of its own (so at most {@code --max-sequences}, which they all
     * occupy at once); not with {@code echo}, whose prompt would be echoed once per choice.
     */
    private int choices(JsonNode root, boolean echo) {
        int n = integer(root, "n", 1, 1, options.maxSequences());
        if (n > 1 && echo) {
            throw ApiException.badRequest("n", "'n' > 1 cannot be combined with 'echo'");
        }
        return n;
    }

    /**
     * {@code response_format}: {@code {"type": "text"}} (the default) or {@code {"type": "json_object"}} (JSON mode: the
     * reply is kept a JSON object, see {@link dev.rg.core.generate.JsonConstraint}); true for JSON mode. A JSON schema
     * is refused.
     */
    private static boolean jsonMode(JsonNode root) {
        JsonNode format = root.get("response_format");
        if (!present(format)) {
            return false;
        }
        String type = format.isObject() ? format.path("type").asText("") : "";
        return switch (type) {
            case "text" -> false;
            case "json_object" -> true;
            case "json_schema" -> throw ApiException.badRequest("response_format",
                    "'json_schema' is not supported; 'json_object' keeps the reply a JSON object without a schema");
            default -> throw ApiException.badRequest("response_format",
                    "'response_format' must be {\"type\": \"text\"} or {\"type\": \"json_object\"}, got " + abbreviate(format.toString()));
        };
    }

    private static void refuseUnsupported(JsonNode root, boolean chat) {
        for (String f : new String[] {"tools", "functions"}) {
            JsonNode t = root.get(f);
            if (present(t) && !(t.isArray() && t.isEmpty())) {
                throw ApiException.badRequest(f, "tool and function calling are not supported by this server");
            }
        }
        if (!chat) {
            JsonNode best = root.get("best_of");
            if (present(best) && (!best.canConvertToInt() || best.asInt() != 1)) {
                throw ApiException.badRequest("best_of", "only best_of=1 is supported, got " + best);
            }
            JsonNode suffix = root.get("suffix");
            if (present(suffix) && !(suffix.isTextual() && suffix.asText().isEmpty())) {
                throw ApiException.badRequest("suffix", "suffix (insertion) is not supported by this server");
            }
        }
    }

    private Prompt chatPrompt(JsonNode root) {
        JsonNode messages = root.get("messages");
        if (!present(messages) || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.badRequest("messages", "'messages' must be a non-empty array of {role, content}");
        }
        ChatMessages folder = new ChatMessages("messages");
        ChatMessages.Folded folded;
        try {
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                String where = "messages[" + i + "]";
                if (!m.isObject()) {
                    throw ApiException.badRequest(where, where + " must be an object with 'role' and 'content'");
                }
                folder.add(m.path("role").asText(""), content(m.get("content"), where), where);
            }
            folded = folder.fold();
        } catch (ChatMessages.InvalidMessage e) {
            throw ApiException.badRequest(e.param(), e.getMessage());
        }
        List<ChatTemplate.Message> turns = folded.turns();
        int systemLength = folded.systemLength();
        int[] ids = template.encode(turns, true);
        return new Prompt(ids, options.stateCacheBytes() > 0 ? PromptMarks.of(tokenizer, turns, systemLength, ids) : new int[0]);
    }

    private static String content(JsonNode c, String where) {
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.badRequest(where + ".content", where + ".content: only text parts are supported"
                            + " ({\"type\": \"text\", \"text\": ...}), got " + abbreviate(part.toString()));
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiException.badRequest(where + ".content", where + ".content must be a string or an array of text parts");
    }

    /**
     * The completions {@code prompt}: a string, an array of token ids, or an array of either (several prompts, each
     * run as a request of its own, at most {@link #maxPrompts} so that a request always fits the server's queue).
     */
    private List<Prompt> textPrompts(JsonNode root) {
        JsonNode p = root.get("prompt");
        if (p != null && p.isArray() && !p.isEmpty() && (p.get(0).isTextual() || p.get(0).isArray())) {
            if (p.size() > maxPrompts()) {
                throw ApiException.badRequest("prompt", "'prompt' holds " + p.size() + " prompts; this server takes at most "
                        + maxPrompts() + " per request (--max-sequences + --max-queue)");
            }
            List<Prompt> prompts = new ArrayList<>(p.size());
            for (int i = 0; i < p.size(); i++) {
                JsonNode one = p.get(i);
                if (!one.isTextual() && !one.isArray()) {
                    throw ApiException.badRequest("prompt", "prompt[" + i + "] must be a string or an array of token ids, like"
                            + " prompt[0], got " + abbreviate(one.toString()));
                }
                prompts.add(new Prompt(textPrompt(one, "prompt[" + i + "]"), new int[0]));
            }
            return prompts;
        }
        if (p != null && (p.isTextual() || p.isArray())) {
            return List.of(new Prompt(textPrompt(p, "prompt"), new int[0]));
        }
        throw ApiException.badRequest("prompt", "'prompt' must be a non-empty string, an array of token ids, or an array of"
                + " those (several prompts)");
    }

    /** The most prompts one completions request may carry: as many as the server holds at once, running and queued. */
    private int maxPrompts() {
        return options.maxSequences() + options.maxQueue();
    }

    /** One prompt, {@code where} in the body: a non-empty string (BOS added) or a non-empty array of token ids. */
    private int[] textPrompt(JsonNode p, String where) {
        if (p.isTextual()) {
            if (p.asText().isEmpty()) {
                throw ApiException.badRequest("prompt", "'" + where + "' must not be empty");
            }
            return withBos(tokenizer.encode(p.asText()));
        }
        if (p.isEmpty()) {
            throw ApiException.badRequest("prompt", "'" + where + "' must not be an empty array");
        }
        int[] ids = new int[p.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = p.get(i);
            if (!id.isInt() || id.asInt() < 0 || id.asInt() >= tokenizer.vocabSize()) {
                throw ApiException.badRequest("prompt", where + "[" + i + "] must be a token id in [0, "
                        + tokenizer.vocabSize() + "), got " + abbreviate(id.toString()));
            }
            ids[i] = id.asInt();
        }
        return ids;
    }

    /** {@code max_completion_tokens} or {@code max_tokens}: at least {@code min} (0 only where the prompt is echoed). */
    private static int maxTokens(JsonNode root, int min) {
        int limit = dev.rg.core.generate.GenerationConfig.MAX_TOKENS_LIMIT;
        if (present(root.get("max_completion_tokens"))) {
            return integer(root, "max_completion_tokens", DEFAULT_MAX_TOKENS, min, limit);
        }
        return integer(root, "max_tokens", DEFAULT_MAX_TOKENS, min, limit);
    }

    private static List<String> stops(JsonNode root) {
        JsonNode s = root.get("stop");
        if (!present(s)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (s.isTextual()) {
            out.add(s.asText());
        } else if (s.isArray()) {
            for (JsonNode x : s) {
                if (!x.isTextual()) {
                    throw ApiException.badRequest("stop", "'stop' must be a string or an array of strings");
                }
                out.add(x.asText());
            }
        } else {
            throw ApiException.badRequest("stop", "'stop' must be a string or an array of strings");
        }
        if (out.size() > MAX_STOPS) {
            throw ApiException.badRequest("stop", "at most " + MAX_STOPS + " stop strings, got " + out.size());
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiException.badRequest("stop", "stop strings must not be empty");
        }
        return out;
    }

    private static boolean present(JsonNode n) {
        return n != null && !n.isNull();
    }

    private static float number(JsonNode root, String name, float dflt, float min, float max) {
        JsonNode n = root.get(name);
        if (!present(n)) {
            return dflt;
        }
        if (!n.isNumber() || !Double.isFinite(n.asDouble()) || n.asDouble() < min || n.asDouble() > max) {
            throw ApiException.badRequest(name, "'" + name + "' must be a number in [" + fmt(min) + ", " + fmt(max) + "], got "
                    + abbreviate(n.toString()));
        }
        return (float) n.asDouble();
    }

    private static int integer(JsonNode root, String name, int dflt, int min, int max) {
        JsonNode n = root.get(name);
        if (!present(n)) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min || n.asInt() > max) {
            throw ApiException.badRequest(name, "'" + name + "' must be an integer in [" + min + ", " + max + "], got "
                    + abbreviate(n.toString()));
        }
        return n.asInt();
    }

    private static long longValue(JsonNode root, String name) {
        JsonNode n = root.get(name);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiException.badRequest(name, "'" + name + "' must be an integer, got " + abbreviate(n.toString()));
        }
        return n.asLong();
    }

    private static boolean bool(JsonNode root, String name, boolean dflt) {
        JsonNode n = root.get(name);
        if (!present(n)) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw ApiException.badRequest(name, "'" + name + "' must be true or false, got " + abbreviate(n.toString()));
        }
        return n.asBoolean();
    }

    private static String fmt(float f) {
        return f == Float.MIN_VALUE ? "0 (exclusive)" : (f == (int) f ? Integer.toString((int) f) : Float.toString(f));
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
