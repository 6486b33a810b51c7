package dev.cnnzoo.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.UnknownModelException;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.predict.Predictor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import javax.imageio.ImageIO;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The zoo as an inference server: the Open Inference Protocol's REST API (KServe v2) for every
 * served model, with dynamic batching per model ({@link DynamicBatcher}), Prometheus metrics at
 * {@code /metrics}, and a catalog of every model on the class path at {@code /}.
 *
 * <p>The HTTP server is Jetty 12's core API (no servlets). Chosen over the JDK's {@code HttpServer},
 * which ties a thread to every request for its whole life and has no graceful stop, request size
 * limit or maintained async API; over Javalin 7, which is a routing layer on the same Jetty 12 plus
 * Kotlin's runtime, for a handful of fixed routes; over Undertow 2.3, which would serve as well but
 * brings JBoss's XNIO and logging stacks (and Helidon 4 needs Java 21; the zoo targets 17). Jetty
 * is maintained by the Eclipse Foundation with regular 12.x releases. Its handlers complete asynchronously: a request waiting for its batch
 * holds no thread, so a queue of hundreds of requests costs memory for their tensors only; and its
 * {@link GracefulHandler} stops taking requests and waits for those in flight, which is what a
 * SIGTERM needs.
 *
 * <h2>Endpoints</h2>
 * <ul>
 *   <li>{@code GET /v2}: {@code {"name", "version", "extensions"}};
 *       {@code GET /v2/health/live}: {@code {"live": true}};
 *       {@code GET /v2/health/ready}: {@code {"ready": bool}}, 503 while a model fails to load or the server drains.
 *   <li>{@code GET /v2/models/{m}}: {@code {"name", "platform", "inputs", "outputs"}}, each tensor
 *       {@code {"name", "datatype", "shape"}} with -1 for a variable dimension;
 *       {@code GET /v2/models/{m}/ready}: {@code {"name", "ready"}}, 503 when not ready (a lazily
 *       loaded model is not ready until its first request).
 *   <li>{@code POST /v2/models/{m}/infer}: {@code {"id"?, "inputs": [{"name", "shape", "datatype",
 *       "data"}], "outputs"?: [{"name"}]}} to {@code {"model_name", "id"?, "outputs": [{"name",
 *       "shape", "datatype", "data"}]}}.
 *   <li>{@code POST /v2/models/{m}/classify?top=K}: an image file as the body (JPEG, PNG, ...) to
 *       {@code {"model_name", "classes": [{"index", "label", "probability"}]}}, preprocessed as
 *       {@code zoo predict} does (this server's extension, listed in {@code /v2}'s extensions).
 *   <li>Errors: the protocol's {@code {"error": message}} with 400 (malformed request), 404 (unknown
 *       model or path), 405, 413 (body over the limit), 415 (not an image), 429 (queue full), 503
 *       (shutting down), 500 (the model failed).
 *   <li>{@code GET /metrics}: Prometheus text format. {@code GET /}, {@code /models/{id}}: the
 *       catalog pages; {@code GET /api/catalog?glob=G}, {@code /api/models/{id}?depth=D}: their data.
 * </ul>
 */
public final class ModelServer implements AutoCloseable {
    /** This server's extension to the protocol: {@code POST /v2/models/{m}/classify}. */
    public static final String CLASSIFY_EXTENSION = "classify";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> STATIC = Set.of("app.js", "style.css");
    /** How much of a too-large body is read and dropped before the 413, as Tomcat's default swallow size. */
    static final long DRAINED_PAST_LIMIT = 2L << 20;

    private final ServeOptions options;
    private final Map<String, ServedModel> models;
    private final ServerMetrics metrics = new ServerMetrics();
    private final ModelZoo zoo;
    private final Catalog catalog;
    private final Map<String, byte[]> resources = new ConcurrentHashMap<>();
    private final Server server;
    private final ServerConnector connector;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopping;

    private ModelServer(List<ServedModel> served, ServeOptions options, ModelZoo zoo, BenchFigures bench) {
        this.options = options;
        this.models = new LinkedHashMap<>();
        for (ServedModel m : served) {
            if (models.put(m.name(), m) != null) {
                throw new ZooException("two models would be served as '" + m.name() + "'; give each a distinct name");
            }
        }
        this.zoo = zoo;
        this.catalog = new Catalog(zoo, bench, models::get);
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("serve");
        threads.setDaemon(true);
        this.server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        this.connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(options.host());
        connector.setPort(options.port());
        server.addConnector(connector);
        server.setHandler(new GracefulHandler(new Router()));
        server.setErrorHandler(new JsonErrorHandler());
        server.setStopTimeout(options.drainTimeout().toMillis());
    }

    /**
     * Starts serving {@code models} (loading them now when {@link ServeOptions#eager()}), with the
     * catalog of every model in {@code zoo}.
     *
     * @throws ZooException when a model cannot be loaded or the address cannot be bound
     */
    public static ModelServer start(List<ServedModel> models, ServeOptions options, ModelZoo zoo, BenchFigures bench) {
        ImageIO.setUseCache(false);          // decode request bodies in memory, never through temporary files
        ModelServer s = new ModelServer(models, options, zoo, bench);
        try {
            if (options.eager()) {
                for (ServedModel m : models) {
                    m.load(options, s.metrics);
                }
            }
            s.server.start();
        } catch (ZooException e) {
            s.close();
            throw e;
        } catch (Exception e) {
            s.close();
            Throwable cause = e instanceof IOException && e.getCause() instanceof BindException ? e.getCause() : e;
            throw new ZooException("cannot listen on " + options.host() + ":" + options.port() + ": " + cause.getMessage(), e);
        }
        // The catalog summarises every model on the class path (37 graphs built, about 5 s on two
        // cores): done once in the background, so that the first visitor does not wait for it.
        Thread warm = new Thread(() -> {
            try {
                s.catalog.list(null);
            } catch (RuntimeException e) {
                // the catalog's own request reports the problem
            }
        }, "catalog-summaries");
        warm.setDaemon(true);
        warm.setPriority(Thread.MIN_PRIORITY);
        warm.start();
        return s;
    }

    /** The port the server listens on (the one picked when the options asked for 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** {@code http://host:port/}. */
    public URI uri() {
        String host = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return URI.create("http://" + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + port() + "/");
    }

    public List<ServedModel> models() {
        return List.copyOf(models.values());
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    /**
     * Stops gracefully: no new connections or requests (503 on connections already open), every
     * request in flight or queued runs and is answered (up to the drain timeout), then every
     * session is freed. Safe to call more than once, from any thread.
     */
    public void stop() {
        synchronized (this) {
            if (stopping) {
                awaitStop();
                return;
            }
            stopping = true;
        }
        models.values().forEach(ServedModel::drain);
        try {
            server.stop();
        } catch (Exception e) {
            // Jetty reports a drain that timed out as an exception; the sessions are freed all the same.
        } finally {
            models.values().forEach(ServedModel::close);
            stopped.countDown();
        }
    }

    /** Blocks until {@link #stop} has finished. */
    public void awaitStop() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Serves until the process gets SIGTERM or SIGINT (Ctrl-C), then stops gracefully and returns,
     * so that the caller can exit with status 0 (the JVM's own handling of SIGTERM would exit 143).
     */
    public void serveUntilSignalled() {
        // sun.misc.Signal (module jdk.unsupported, kept for exactly this use): the JDK has no other way
        // to handle SIGTERM and still choose the exit status. javac warns about it; that is expected.
        for (String name : List.of("TERM", "INT")) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> new Thread(this::stop, "serve-stop").start());
        }
        awaitStop();
    }

    @Override
    public void close() {
        stop();
    }

    // ---- requests ---------------------------------------------------------------------------

    /** One request in progress: answers it once, in JSON or otherwise, and records it in the metrics. */
    private final class Exchange {
        final Request request;
        final Response response;
        final Callback callback;
        final long start = System.nanoTime();
        String model = "";
        String endpoint = "other";
        private boolean answered;
        private volatile boolean bodyRead;

        Exchange(Request request, Response response, Callback callback) {
            this.request = request;
            this.response = response;
            this.callback = callback;
        }

        void json(int status, Object body) {
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(body);
            } catch (JsonProcessingException e) {
                error(500, "cannot write the response: " + e.getMessage());
                return;
            }
            send(status, "application/json", bytes);
        }

        void error(int status, String message) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", message);
            try {
                send(status, "application/json", JSON.writeValueAsBytes(body));
            } catch (JsonProcessingException e) {
                send(500, "text/plain", "internal error".getBytes(StandardCharsets.UTF_8));
            }
        }

        /** Any failure, as the status and message it deserves. */
        void fail(Throwable t) {
            Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
            if (e instanceof RequestException r) {
                error(r.status(), r.getMessage());
            } else if (e instanceof UnknownModelException) {
                error(404, e.getMessage());
            } else if (e instanceof ZooException) {
                error(500, e.getMessage());
            } else {
                error(500, "internal error: " + e);
            }
        }

        synchronized void send(int status, String contentType, byte[] body) {
            if (answered) {
                return;
            }
            answered = true;
            metrics.request(model, endpoint, status, (System.nanoTime() - start) / 1e9);
            response.setStatus(status);
            if (!bodyRead && request.getLength() != 0) {
                // Answered without reading the body (too large, unknown model...): Jetty will close the
                // connection rather than read it, and says so, so that the client does not reuse it.
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
            }
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
            response.write(true, ByteBuffer.wrap(body), callback);
        }

        /**
         * Reads the body and hands it on, on a pool thread (what follows parses JSON or decodes an image).
         * A body over the limit is answered 413; up to {@link #DRAINED_PAST_LIMIT} bytes past the limit are read
         * and dropped first, since closing a connection with unread bytes resets it, and the reset can
         * destroy the 413 before a client still sending has read it.
         */
        void body(Consumer<byte[]> then) {
            long declared = request.getLength();
            long limit = Math.min(options.maxRequestBytes(), Integer.MAX_VALUE - 16);       // what one byte[] holds
            if (declared > limit + DRAINED_PAST_LIMIT) {
                throw tooLarge(declared, limit);
            }
            new BodyReader(declared, limit, then).run();
        }

        /** The 413, naming the declared length where there is one (not for a chunked body). */
        private RequestException tooLarge(long declared, long limit) {
            return new RequestException(413, declared > limit
                    ? "the body has " + declared + " bytes; this server takes at most " + limit
                    : "the body exceeds this server's limit of " + limit + " bytes");
        }

        /** Jetty's read-or-demand loop over the body; {@code run} is also the demand callback (a blocking one). */
        private final class BodyReader implements Runnable {
            private final long declared;
            private final long limit;
            private final Consumer<byte[]> then;
            private final ByteArrayOutputStream kept;
            private long seen;

            BodyReader(long declared, long limit, Consumer<byte[]> then) {
                this.declared = declared;
                this.limit = limit;
                this.then = then;
                this.kept = new ByteArrayOutputStream((int) Math.min(declared >= 0 ? declared : 8192, limit));
            }

            @Override
            public void run() {
                try {
                    while (true) {
                        Content.Chunk chunk = request.read();
                        if (chunk == null) {
                            request.demand(this);
                            return;
                        }
                        if (Content.Chunk.isFailure(chunk)) {
                            throw new RequestException(400, "cannot read the body: " + chunk.getFailure().getMessage());
                        }
                        ByteBuffer bytes = chunk.getByteBuffer();
                        seen += bytes.remaining();
                        if (seen <= limit) {
                            byte[] copy = new byte[bytes.remaining()];
                            bytes.get(copy);
                            kept.writeBytes(copy);
                        }
                        boolean last = chunk.isLast();
                        chunk.release();
                        if (seen > limit + DRAINED_PAST_LIMIT || (last && seen > limit)) {
                            bodyRead = last;
                            throw tooLarge(declared, limit);
                        }
                        if (last) {
                            bodyRead = true;
                            then.accept(kept.toByteArray());
                            return;
                        }
                    }
                } catch (RuntimeException e) {
                    fail(e);
                }
            }
        }
    }

    private final class Router extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            Exchange ex = new Exchange(request, response, callback);
            try {
                route(ex, Request.getPathInContext(request), request.getMethod());
            } catch (RuntimeException e) {
                ex.fail(e);
            }
            return true;
        }
    }

    private void route(Exchange ex, String path, String method) {
        String[] parts = path.replaceAll("/+$", "").split("/", -1);       // "/v2/models/m/infer" → "", "v2", "models", "m", "infer"
        if (parts.length >= 2 && parts[1].equals("v2")) {
            v2(ex, parts, method);
            return;
        }
        requireGet(method);
        switch (path) {
            case "/", "/index.html" -> page(ex, "index.html", "text/html; charset=utf-8");
            case "/metrics" -> {
                ex.endpoint = "metrics";
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try {
                    metrics.write(out);
                } catch (IOException e) {
                    throw new ZooException("cannot write the metrics: " + e.getMessage(), e);
                }
                ex.send(200, ServerMetrics.CONTENT_TYPE, out.toByteArray());
            }
            case "/api/catalog" -> {
                ex.endpoint = "catalog";
                ex.json(200, catalog.list(Request.extractQueryParameters(ex.request).getValue("glob")));
            }
            default -> {
                if (parts.length == 3 && parts[1].equals("models")) {
                    catalogModel(parts[2]);
                    page(ex, "model.html", "text/html; charset=utf-8");
                } else if (parts.length == 4 && parts[1].equals("api") && parts[2].equals("models")) {
                    ex.endpoint = "catalog";
                    String depth = Request.extractQueryParameters(ex.request).getValue("depth");
                    ex.json(200, catalog.info(catalogModel(parts[3]), depth == null || depth.isBlank() ? Integer.MAX_VALUE : positive(depth, "depth")));
                } else if (parts.length == 3 && parts[1].equals("static") && STATIC.contains(parts[2])) {
                    page(ex, parts[2], parts[2].endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
                } else {
                    throw new RequestException(404, "no such page: " + path);
                }
            }
        }
    }

    /** {@code id} if the zoo has it; else the zoo's error (with its suggestions), answered 404. */
    private String catalogModel(String id) {
        return zoo.find(id).id();
    }

    private void v2(Exchange ex, String[] parts, String method) {
        // parts: "", "v2", ...
        if (parts.length == 2) {
            requireGet(method);
            ex.endpoint = "server_metadata";
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", "cnn-zoo");
            String v = ModelServer.class.getPackage().getImplementationVersion();
            o.put("version", v != null ? v : "development");
            o.put("extensions", List.of(CLASSIFY_EXTENSION));
            ex.json(200, o);
            return;
        }
        if (parts.length == 4 && parts[2].equals("health")) {
            requireGet(method);
            ex.endpoint = "health";
            switch (parts[3]) {
                case "live" -> ex.json(200, Map.of("live", true));
                case "ready" -> {
                    boolean ready = !stopping && (!options.eager() || models.values().stream().allMatch(ServedModel::isLoaded));
                    ex.json(ready ? 200 : 503, Map.of("ready", ready));
                }
                default -> throw new RequestException(404, "no such health endpoint: " + parts[3] + " (live, ready)");
            }
            return;
        }
        if (parts.length >= 4 && parts[2].equals("models")) {
            ServedModel m = models.get(parts[3]);
            if (m == null) {
                ex.endpoint = parts.length == 4 ? "model_metadata" : parts[4];
                throw new RequestException(404, "no model named '" + parts[3] + "' is served here; served: " + models.keySet());
            }
            ex.model = m.name();
            String verb = parts.length == 4 ? "" : parts[4];
            if (parts.length > 5 || !Set.of("", "ready", "infer", "classify").contains(verb)) {
                ex.endpoint = "other";
                throw new RequestException(404, "no such endpoint: " + String.join("/", parts)
                        + " (model versions are not served; use /v2/models/" + m.name() + "[/ready|/infer|/classify])");
            }
            ex.endpoint = verb.isEmpty() ? "model_metadata" : verb;
            switch (verb) {
                case "" -> {
                    requireGet(method);
                    ServedModel.Loaded l = m.load(options, metrics);
                    Map<String, Object> o = new LinkedHashMap<>();
                    o.put("name", m.name());
                    o.put("platform", ServedModel.PLATFORM);
                    o.put("inputs", l.session().inputs().stream().map(V2Tensors::metadata).toList());
                    o.put("outputs", l.session().outputs().stream().map(V2Tensors::metadata).toList());
                    ex.json(200, o);
                }
                case "ready" -> {
                    requireGet(method);
                    boolean ready = m.isLoaded() && !stopping;
                    Map<String, Object> o = new LinkedHashMap<>();
                    o.put("name", m.name());
                    o.put("ready", ready);
                    ex.json(ready ? 200 : 503, o);
                }
                case "infer" -> {
                    requirePost(method);
                    ServedModel.Loaded l = m.load(options, metrics);
                    ex.body(bytes -> infer(ex, m, l, bytes));
                }
                default -> {
                    requirePost(method);
                    String top = Request.extractQueryParameters(ex.request).getValue("top");
                    int k = top == null || top.isBlank() ? 5 : positive(top, "top");
                    ServedModel.Loaded l = m.load(options, metrics);
                    ex.body(bytes -> m.classify(l, bytes, k).whenComplete((scores, failure) -> {
                        if (failure != null) {
                            ex.fail(failure);
                            return;
                        }
                        List<Map<String, Object>> classes = new ArrayList<>();
                        for (Predictor.Score s : scores) {
                            Map<String, Object> c = new LinkedHashMap<>();
                            c.put("index", s.index());
                            c.put("label", s.label());
                            c.put("probability", s.probability());
                            classes.add(c);
                        }
                        Map<String, Object> o = new LinkedHashMap<>();
                        o.put("model_name", m.name());
                        o.put("classes", classes);
                        ex.json(200, o);
                    }));
                }
            }
            return;
        }
        throw new RequestException(404, "no such endpoint: " + String.join("/", parts));
    }

    private void infer(Exchange ex, ServedModel m, ServedModel.Loaded l, byte[] body) {
        JsonNode request;
        try {
            request = JSON.readTree(body);
        } catch (IOException e) {
            throw RequestException.badRequest("the body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        Map<String, Tensor> feeds = V2Tensors.inputs(request, l.session().inputs());
        List<String> wanted = V2Tensors.requestedOutputs(request, l.session().outputs());
        JsonNode id = request.get("id");
        if (id != null && !id.isTextual()) {
            throw RequestException.badRequest("\"id\" must be a string");
        }
        m.infer(l, feeds).whenComplete((outputs, failure) -> {
            if (failure != null) {
                ex.fail(failure);
                return;
            }
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model_name", m.name());
            if (id != null) {
                o.put("id", id.asText());
            }
            List<Map<String, Object>> out = new ArrayList<>();
            outputs.forEach((name, t) -> {
                if (wanted == null || wanted.contains(name)) {
                    out.add(V2Tensors.output(name, t));
                }
            });
            o.put("outputs", out);
            ex.json(200, o);
        });
    }

    private void page(Exchange ex, String name, String contentType) {
        ex.endpoint = "page";
        ex.send(200, contentType, resources.computeIfAbsent(name, n -> {
            try (InputStream in = ModelServer.class.getResourceAsStream("web/" + n)) {
                if (in == null) {
                    throw new ZooException("the resource web/" + n + " is missing from zoo-serve's jar");
                }
                return in.readAllBytes();
            } catch (IOException e) {
                throw new ZooException("cannot read web/" + n + ": " + e.getMessage(), e);
            }
        }));
    }

    private static void requireGet(String method) {
        if (!method.equals("GET")) {
            throw new RequestException(405, method + " is not allowed here; use GET");
        }
    }

    private static void requirePost(String method) {
        if (!method.equals("POST")) {
            throw new RequestException(405, method + " is not allowed here; use POST");
        }
    }

    private static int positive(String value, String name) {
        try {
            int v = Integer.parseInt(value.strip());
            if (v >= 1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw RequestException.badRequest(name + " must be a whole number ≥ 1, got '" + value + "'");
    }

    /** Jetty's own errors (a malformed request line, an oversized header) in the protocol's form. */
    private final class JsonErrorHandler extends ErrorHandler {
        @Override
        protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", message != null ? message : "HTTP " + code);
            metrics.request("", "other", code, 0);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            try {
                response.write(true, ByteBuffer.wrap(JSON.writeValueAsBytes(body)), callback);
            } catch (JsonProcessingException e) {
                callback.failed(e);
            }
        }
    }
}
