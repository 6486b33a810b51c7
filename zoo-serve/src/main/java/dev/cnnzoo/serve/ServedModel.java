package dev.cnnzoo.serve;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.image.ImageTransform;
import dev.cnnzoo.runtime.predict.ClassNames;
import dev.cnnzoo.runtime.predict.Predictor;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A model the server serves: a zoo model with its weights, or any ONNX file. Its ONNX Runtime
 * session and its {@link DynamicBatcher} are made when the server starts or on the first request
 * that needs them ({@link ServeOptions#eager()}); each model has a session of its own.
 */
public final class ServedModel implements AutoCloseable {
    /** ONNX Runtime, under the name Triton and KServe give its models' platform. */
    static final String PLATFORM = "onnxruntime_onnx";

    /** A model's session and batcher, once loaded. */
    record Loaded(InferenceSession session, DynamicBatcher batcher) {
    }

    private final String name;
    private final Model model;
    private final String origin;
    private final List<String> labels;
    private final ImageTransform transform;
    private final Function<RuntimeOptions, InferenceSession> opener;
    private volatile Loaded loaded;
    private boolean closed;

    private ServedModel(String name, Model model, String origin, List<String> labels, Function<RuntimeOptions, InferenceSession> opener) {
        this.name = name;
        this.model = model;
        this.origin = origin;
        this.labels = labels;
        this.opener = opener;
        this.transform = model != null && model.config().includeTop() ? ImageTransform.forModel(model) : null;
    }

    /**
     * A zoo model with {@code weights}, served under its id.
     *
     * @param labels             class names by index, or null: a 1,000-class model then gets
     *                           ImageNet-1k's names (as {@code zoo predict} does), any other numbered classes
     * @param weightsDescription what the weights are, for people ("pretrained weights", a file name)
     */
    public static ServedModel zoo(Model model, Weights weights, List<String> labels, String weightsDescription) {
        List<String> names = labels != null && !labels.isEmpty() ? List.copyOf(labels)
                : model.config().classes() == 1000 ? ClassNames.imagenet() : null;
        if (names != null && names.size() != model.config().classes()) {
            throw new ZooException(model.id() + " has " + model.config().classes() + " classes but " + names.size() + " class names were given");
        }
        return new ServedModel(model.id(), model, model.id() + " with " + weightsDescription, names,
                options -> ZooSessions.open(model, weights, options));
    }

    /**
     * Any ONNX file, served under {@code name}. It answers {@code infer}; {@code classify} needs a
     * zoo model (its preprocessing and classes).
     */
    public static ServedModel onnx(String name, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ZooException("model file " + file + " does not exist");
        }
        return new ServedModel(name, null, file.toString(), null, options -> InferenceSession.open(file, options));
    }

    public String name() {
        return name;
    }

    /** The zoo model, or null for an ONNX file. */
    public Model model() {
        return model;
    }

    /** Where the model came from ("fashion-cnn with pretrained weights", a file's path). */
    public String origin() {
        return origin;
    }

    /** Whether {@code classify} works: a zoo model with its classifier. */
    public boolean classifies() {
        return transform != null;
    }

    public boolean isLoaded() {
        return loaded != null;
    }

    /**
     * The session and batcher, opened now if they were not. A model whose inputs or outputs have a
     * fixed first dimension cannot stack requests, so it runs each alone (batch limit 1).
     */
    synchronized Loaded load(ServeOptions options, ServerMetrics metrics) {
        if (loaded != null) {
            return loaded;
        }
        if (closed) {
            throw new RequestException(503, "the server is shutting down");
        }
        InferenceSession session = opener.apply(options.runtime());
        boolean batched = session.inputs().stream().allMatch(p -> p.shape().length > 0 && p.shape()[0] < 0)
                && session.outputs().stream().allMatch(p -> p.shape().length > 0 && p.shape()[0] < 0);
        DynamicBatcher batcher = new DynamicBatcher(name, session::run, batched ? options.maxBatch() : 1,
                options.maxDelay().toNanos(), options.queueCapacity(), metrics.forModel(name));
        loaded = new Loaded(session, batcher);
        return loaded;
    }

    /** The batch limit this model runs with once loaded (1 for a fixed batch dimension), or 0 before it is loaded. */
    public int maxBatch() {
        Loaded l = loaded;
        return l == null ? 0 : l.batcher().maxBatch();
    }

    /** Runs {@code feeds} (already checked against the inputs) with whatever other requests are queued. */
    CompletableFuture<Map<String, Tensor>> infer(Loaded l, Map<String, Tensor> feeds) {
        return l.batcher().submit(feeds, feeds.values().iterator().next().shape().dim(0));
    }

    /**
     * The {@code k} most probable classes of an image file's bytes (JPEG, PNG, ...), preprocessed
     * as {@code zoo predict} preprocesses files.
     */
    CompletableFuture<List<Predictor.Score>> classify(Loaded l, byte[] image, int k) {
        if (transform == null) {
            throw new RequestException(400, model == null ? "model " + name + " is an ONNX file; classify needs a zoo model (its preprocessing and "
                    + "classes): use infer" : "model " + name + " is built without its classifier; it has no classes");
        }
        ImageFiles.Decoded decoded;
        try {
            decoded = ImageFiles.decode(image, "the body", model.config().inputChannels(), ImageFiles.Damaged.REFUSE);
        } catch (ZooException e) {
            throw new RequestException(415, e.getMessage());
        }
        float[] pixels = transform.apply(decoded.planes());
        int[] size = model.config().inputSize();
        Tensor input = Tensor.of(Shape.of(1, model.config().inputChannels(), size[0], size[1]), pixels);
        String inputName = l.session().inputs().get(0).name();
        return infer(l, Map.of(inputName, input)).thenApply(out -> {
            float[] logits = out.get(l.session().outputs().get(0).name()).floats();
            return Predictor.top(logits, k, labels);
        });
    }

    /** Runs queued requests without waiting for their batching delay (the server is stopping). */
    void drain() {
        Loaded l = loaded;
        if (l != null) {
            l.batcher().drain();
        }
    }

    /** Finishes every queued request, then frees the session. */
    @Override
    public void close() {
        Loaded l;
        synchronized (this) {
            closed = true;
            l = loaded;
        }
        if (l != null) {
            l.batcher().close();
            l.session().close();
        }
    }
}
