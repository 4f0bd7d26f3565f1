package dev.rg.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rg.core.RecurrentGemma;
import dev.rg.core.model.Model;
import dev.rg.core.tokenizer.GemmaTokenizer;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * {@code rg serve}: OpenAI's chat and text completion API over one model, on the Helidon SE web server (virtual
 * threads, one per request). It listens at once and loads the model in the background; until the model is
 * ready the API answers 503. Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models,
 * GET /health, GET /metrics (Prometheus text), a chat page at /, OpenAI's Responses API (/v1/responses) and its
 * Files and Batch APIs (/v1/files, /v1/batches; batches run in the slots clients leave free).
 */
public final class RgServer implements AutoCloseable {
    private final ServerOptions options;
    private final ServerMetrics metrics = new ServerMetrics();
    private final ObjectMapper mapper = new ObjectMapper();
    private final OpenAiJson json;
    private final CompletableFuture<Engine> engine = new CompletableFuture<>();
    private final long created = System.currentTimeMillis() / 1000;
    private final byte[] page;
    private final FileStore files;
    private final ApiBatches batches;
    private final WebServer web;

    /** {@code --files-dir} cannot be used (not readable, or holds files this server did not write). */
    public static final class FilesUnreadable extends IllegalArgumentException {
        FilesUnreadable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private RgServer(ServerOptions options, java.util.function.LongSupplier clock) {
        this.options = options;
        this.json = new OpenAiJson(mapper, options.modelId());
        this.page = resource("index.html");
        CompletionHandler chat = new CompletionHandler(this, true);
        CompletionHandler text = new CompletionHandler(this, false);
        TokenizeHandler tokens = new TokenizeHandler(this);
        this.files = new FileStore(options.filesDir(), options.filesBytes(), FileStore.MAX_FILES, mapper);
        this.batches = new ApiBatches(files, mapper, options, engine, clock, metrics, ApiBatches.MAX_BATCHES);
        FilesHandler fileApi = new FilesHandler(this, files);
        BatchesHandler batchApi = new BatchesHandler(this, batches);
        ResponsesHandler responses = new ResponsesHandler(this);
        HttpRouting.Builder routing = HttpRouting.builder()
                .addFilter((chain, req, res) -> {
                    // a browser's CORS preflight (OPTIONS) never carries the key; it reads nothing, and --cors-origins answers it
                    if (req.prologue().method() == io.helidon.http.Method.OPTIONS
                            || authorized(req.path().path(), req.headers().first(HeaderNames.AUTHORIZATION).orElse(null), res)) {
                        chain.proceed();
                    }
                })
                .post("/v1/chat/completions", api("chat", chat::handle))
                .post("/v1/completions", api("completions", text::handle))
                .post("/tokenize", api("tokenize", tokens::tokenize))
                .post("/detokenize", api("detokenize", tokens::detokenize))
                .post("/v1/responses", api("responses", responses::create))
                .get("/v1/responses/{id}/input_items", api("responses", responses::inputItems))
                .get("/v1/responses/{id}", api("responses", responses::get))
                .delete("/v1/responses/{id}", api("responses", responses::delete))
                .post("/v1/files", api("files", fileApi::upload))
                .get("/v1/files", api("files", fileApi::list))
                .get("/v1/files/{id}/content", api("files", fileApi::content))
                .get("/v1/files/{id}", api("files", fileApi::get))
                .delete("/v1/files/{id}", api("files", fileApi::delete))
                .post("/v1/batches", api("batches", batchApi::create))
                .get("/v1/batches", api("batches", batchApi::list))
                .get("/v1/batches/{id}", api("batches", batchApi::get))
                .post("/v1/batches/{id}/cancel", api("batches", batchApi::cancel))
                .get("/v1/models", api("models", (req, res) -> {
                    engine();
                    sendJson(res, 200, json.models(created));
                }))
                .get("/v1/models/{id}", api("models", (req, res) -> {
                    String id = req.path().pathParameters().get("id");
                    if (!id.equals(options.modelId())) {
                        throw ApiException.notFound("model", "model_not_found", "The model '" + id + "' does not exist");
                    }
                    sendJson(res, 200, json.model(created));
                }))
                .get("/health", this::health)
                .get("/metrics", (req, res) -> {
                    res.header(HeaderNames.CONTENT_TYPE, ServerMetrics.CONTENT_TYPE);
                    res.send(metrics.scrape());
                })
                .get("/", (req, res) -> {
                    res.header(HeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
                    res.send(page);
                })
                // a CORS preflight: Helidon's CORS support has added its Access-Control-* headers; browsers want a 2xx
                .options(api("preflight", (req, res) -> {
                    if (options.corsOrigins().isEmpty()) {
                        throw ApiException.notFound(null, "unknown_url", "this server answers no cross-origin requests"
                                + " (start it with --cors-origins)");
                    }
                    res.status(204).send();
                }))
                .any(api("other", (req, res) -> {
                    throw ApiException.notFound(null, "unknown_url", "Unknown request URL: " + req.prologue().method().text()
                            + " " + req.path().path() + " (see GET /v1/models, POST /v1/chat/completions, POST /v1/completions,"
                            + " POST /v1/responses, POST /tokenize, POST /detokenize, /v1/files, /v1/batches)");
                }));
        try {
            var server = WebServer.builder()
                    .host(options.host())
                    .port(options.port())
                    .shutdownHook(false)
                    // Helidon leaves Nagle's algorithm on: a streamed token's small write then waited for the ACK of
                    // the last one, which the client delays (up to 40 ms on Linux). One client's time to first token
                    // was 47 ms for a 22-token prompt that prefills in about 2.
                    .connectionOptions(o -> o.tcpNoDelay(true))
                    .routing(routing);
            if (!options.corsOrigins().isEmpty()) {
                server.addFeature(cors(options.corsOrigins()));
            }
            this.web = server.build().start();
        } catch (RuntimeException e) {
            batches.close();
            files.close();
            throw e;
        }
    }

    /**
     * Cross-origin requests from browser pages of {@code origins} ("*": any), with Helidon's CORS support: it answers
     * the browsers' preflight requests (before authentication, which a preflight never carries) and adds the
     * {@code Access-Control-*} headers to the API's answers.
     */
    private static io.helidon.webserver.cors.CorsFeature cors(java.util.List<String> origins) {
        return io.helidon.webserver.cors.CorsFeature.create(c -> c.addDefaults(false).addPath(p -> {
            p.pathPattern("/*").clearAllowOrigins().clearAllowMethods().addAllowMethod("GET").addAllowMethod("POST")
                    .addAllowMethod("DELETE").addAllowHeader("*").maxAge(Duration.ofHours(1));
            origins.forEach(p::addAllowOrigin);
        }));
    }

    /**
     * Starts listening at once and loads the model on a background thread.
     *
     * @param loader loads the model with its tokenizer (e.g. {@link RecurrentGemma#load}, which checks that they fit)
     */
    public static RgServer start(ServerOptions options, Supplier<RecurrentGemma> loader) {
        return start(options, loader, () -> System.currentTimeMillis() / 1000);
    }

    /** {@link #start(ServerOptions, Supplier)} with the time in seconds that batches are created and expire by. */
    static RgServer start(ServerOptions options, Supplier<RecurrentGemma> loader, java.util.function.LongSupplier clock) {
        RgServer s = new RgServer(options, clock);
        s.metrics.loading(true);
        Thread.ofPlatform().name("rg-loader").daemon().start(() -> {
            RecurrentGemma rg = null;
            try {
                rg = loader.get();
                Model model = rg.model();
                GemmaTokenizer tok = rg.tokenizer();
                RequestParser parser = new RequestParser(s.mapper, tok, options);
                s.engine.complete(new Engine(model, tok, parser, new Scheduler(model, tok, options, s.metrics)));
            } catch (RuntimeException | Error e) {
                if (rg != null) {
                    rg.close();
                }
                s.engine.completeExceptionally(e);
            } finally {
                s.metrics.loading(false);
            }
        });
        return s;
    }

    /**
     * Waits until the model is loaded.
     *
     * @throws RuntimeException the loading failure (e.g. a bad model directory)
     * @throws IllegalStateException if it takes longer than {@code timeout}
     */
    public void awaitReady(Duration timeout) {
        try {
            engine.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the model did not load within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading the model");
        }
    }

    /** The port it listens on. */
    public int port() {
        return web.port();
    }

    /** Whether accepted connections send small writes at once (TCP_NODELAY): streamed tokens must not wait for ACKs. */
    boolean sendsSmallWritesAtOnce() {
        return web.prototype().connectionOptions().tcpNoDelay();
    }

    /** The loaded engine; 503 while loading, 500 if loading failed. */
    Engine engine() {
        if (!engine.isDone()) {
            throw ApiException.loading("the model is loading; retry shortly");
        }
        if (engine.isCompletedExceptionally()) {
            throw ApiException.internal("the model failed to load");
        }
        return engine.join();
    }

    ServerOptions options() {
        return options;
    }

    /** The server's JSON mapper, for bodies built outside {@link OpenAiJson}. */
    com.fasterxml.jackson.databind.ObjectMapper mapper() {
        return mapper;
    }

    ServerMetrics metrics() {
        return metrics;
    }

    OpenAiJson json() {
        return json;
    }

    void sendJson(ServerResponse res, int status, ObjectNode body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(json.bytes(body));
    }

    /** Wraps an API handler: an {@link ApiException} becomes OpenAI's error body with its status; failures a 500. */
    private Handler api(String endpoint, Handler h) {
        return (req, res) -> {
            try {
                h.handle(req, res);
            } catch (ApiException e) {
                sendError(endpoint, res, e);
            } catch (UncheckedIOException e) {
                metrics.request(endpoint, 499); // the client went away
            } catch (RuntimeException e) {
                sendError(endpoint, res, ApiException.internal("internal error: " + e));
            }
        };
    }

    private void sendError(String endpoint, ServerResponse res, ApiException e) {
        metrics.request(endpoint, e.status());
        if (!res.isSent()) {
            sendJson(res, e.status(), json.error(e));
        }
    }

    private boolean authorized(String path, String header, io.helidon.webserver.http.RoutingResponse res) {
        if (options.apiKey() == null || !(path.startsWith("/v1/") || path.equals("/tokenize") || path.equals("/detokenize"))) {
            return true;
        }
        String expected = "Bearer " + options.apiKey();
        if (header != null && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8))) {
            return true;
        }
        ApiException e = ApiException.unauthorized(header == null
                ? "You didn't provide an API key: send it as 'Authorization: Bearer KEY' (the server runs with --api-key)"
                : "Incorrect API key provided");
        metrics.request("auth", 401);
        sendJson(res, 401, json.error(e));
        return false;
    }

    private void health(ServerRequest req, ServerResponse res) {
        ObjectNode body = mapper.createObjectNode();
        if (!engine.isDone()) {
            body.put("status", "loading");
            sendJson(res, 503, body);
        } else if (engine.isCompletedExceptionally()) {
            body.put("status", "failed");
            sendJson(res, 503, body);
        } else {
            body.put("status", "ok");
            body.put("model", options.modelId());
            sendJson(res, 200, body);
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = RgServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name + " in rg-server");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the state cache read from {@code --state-cache-dir} at start, as a line (once the model is loaded). */
    public Optional<String> restoredStates() {
        if (!engine.isDone() || engine.isCompletedExceptionally()) {
            return Optional.empty();
        }
        return Optional.ofNullable(engine.join().scheduler().restoredReport());
    }

    /** What {@link #close} wrote to {@code --state-cache-dir}, as a line. */
    public Optional<String> keptStates() {
        if (!engine.isDone() || engine.isCompletedExceptionally()) {
            return Optional.empty();
        }
        return Optional.ofNullable(engine.join().scheduler().keptReport());
    }

    /** Stops listening, ends the scheduler (writing the state cache to {@code --state-cache-dir}) and releases the model. */
    @Override
    public void close() {
        web.stop();
        batches.close(); // a running batch is kept as in progress and runs again at the next start
        if (engine.isDone() && !engine.isCompletedExceptionally()) {
            Engine e = engine.join();
            e.scheduler().close();
            e.model().close();
            files.close();
        } else {
            files.close();
            engine.whenComplete((e, err) -> {
                if (e != null) {
                    e.scheduler().close();
                    e.model().close();
                }
            });
        }
    }
}
