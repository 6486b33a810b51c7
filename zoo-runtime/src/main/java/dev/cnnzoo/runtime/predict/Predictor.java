package dev.cnnzoo.runtime.predict;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.ZooMetadata;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.runtime.image.ImageTransform;
import dev.cnnzoo.runtime.image.Planes;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Classifies images with a zoo model, or an ONNX file the zoo wrote (an export, an INT8
 * quantization): each image goes through the model's preprocessing ({@link ImageTransform}), the
 * images run in batches, and each gets its most probable classes (softmax over the logits) with
 * their names.
 */
public final class Predictor implements AutoCloseable {
    /** An image to classify: a name to report it by, its pixels, and how it was converted. */
    public record Input(String name, Planes image, String conversion) {
    }

    /** One class of a prediction. */
    public record Score(int index, String label, double probability) {
    }

    /** An image's most probable classes, best first. */
    public record Prediction(Input input, List<Score> top) {
        public Score best() {
            return top.get(0);
        }
    }

    /** What is predicted, for messages. */
    private final String name;
    private final InferenceSession session;
    private final ImageTransform transform;
    /** The classes the output scores; 0 for a network without its classifier (its output is features). */
    private final int classes;
    private final List<String> labels;
    private final int batch;
    private final boolean ownsSession;

    private Predictor(String name, InferenceSession session, ImageTransform transform, int classes, List<String> labels, int batch,
            boolean ownsSession) {
        if (batch < 1) {
            throw new ZooException("the batch size must be at least 1, got " + batch);
        }
        this.name = name;
        this.session = session;
        this.transform = transform;
        this.classes = classes;
        this.labels = labels != null && labels.size() == classes ? List.copyOf(labels) : null;
        this.batch = batch;
        this.ownsSession = ownsSession;
    }

    /**
     * Opens {@code model} with {@code weights}.
     *
     * @param labels class names by index; null or a list of another length than the model's
     *               classes makes the names "class N"
     * @param batch  images per run
     */
    public static Predictor open(Model model, Weights weights, List<String> labels, RuntimeOptions options, int batch) {
        if (!model.config().includeTop()) {
            throw new ZooException(model.id() + " is built without its classifier (no top); it has no classes to predict");
        }
        if (batch < 1) {
            throw new ZooException("the batch size must be at least 1, got " + batch);
        }
        return create(model, ZooSessions.open(model, weights, options), labels, batch, true);
    }

    /**
     * Opens an ONNX classifier the zoo wrote (an export, an INT8 quantization): its metadata says
     * how to preprocess images and their size; its output, how many classes.
     *
     * @param labels the class names by index for the number of classes the file scores (null: "class N")
     * @throws ZooException when the file lacks the zoo's metadata or the names given are not one per class
     */
    public static Predictor open(Path file, IntFunction<List<String>> labels, RuntimeOptions options, int batch) {
        if (batch < 1) {
            throw new ZooException("the batch size must be at least 1, got " + batch);
        }
        InferenceSession session = InferenceSession.open(file, options);
        try {
            ZooMetadata meta = new ZooMetadata(session.metadata());
            Preprocessing pre = meta.preprocessing().orElseThrow(() -> new ZooException(file + " records no zoo.preprocessing metadata, so how "
                    + "to prepare its images is unknown; predict with files that zoo export or zoo quantize wrote"));
            int[] chw = meta.input().orElseThrow(() -> new ZooException(file + " records no zoo.input metadata (its input size)"));
            long[] out = session.outputs().get(0).shape();
            int classes = meta.classes().orElse(out.length == 2 && out[1] > 0 ? (int) out[1] : -1);
            if (classes < 1) {
                throw new ZooException(file + "'s output " + session.outputs().get(0) + " is not one score per class");
            }
            List<String> names = labels.apply(classes);
            if (names != null && names.size() != classes) {
                throw new ZooException("the class names name " + names.size() + " classes but " + file + " has " + classes);
            }
            return new Predictor(file.toString(), session, new ImageTransform(pre, chw[0], chw[1], chw[2]), classes, names, batch, true);
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }

    /**
     * A predictor over a session opened elsewhere on {@code model}'s export (a session cached for
     * many tasks, say): closing the predictor leaves the session open. A model built without its
     * top has no classes, but its {@link #outputs} (the pooled features) are there.
     */
    public static Predictor over(Model model, InferenceSession session, List<String> labels, int batch) {
        return create(model, session, labels, batch, false);
    }

    private static Predictor create(Model model, InferenceSession session, List<String> labels, int batch, boolean owns) {
        return new Predictor(model.id(), session, ImageTransform.forModel(model), model.config().includeTop() ? model.config().classes() : 0,
                labels, batch, owns);
    }

    /** The number of classes the model scores (0 for a network without its classifier). */
    public int classes() {
        return classes;
    }

    public ImageTransform transform() {
        return transform;
    }

    /** Whether class names are known (else classes are reported as "class N"). */
    public boolean hasLabels() {
        return labels != null;
    }

    /** The {@code k} most probable classes of each image, in the order given. */
    public List<Prediction> predict(List<Input> inputs, int k) {
        if (classes == 0) {
            throw new ZooException(name + " is built without its classifier; it has no classes to predict");
        }
        List<float[]> logits = rows(inputs);
        List<Prediction> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            out.add(new Prediction(inputs.get(i), top(logits.get(i), k)));
        }
        return out;
    }

    /**
     * The network's output row for each image, in the order given, run in batches: the logits of a
     * classifier, the pooled feature vector of a model built without its top.
     */
    public List<float[]> outputs(List<Planes> images) {
        return rows(images.stream().map(p -> new Input("", p, "")).toList());
    }

    private List<float[]> rows(List<Input> inputs) {
        List<float[]> out = new ArrayList<>();
        ImageBatches.forEach(transform, inputs, batch, (chunk, pixels) -> {
            float[] z = session.run(pixels).floats();
            int width = z.length / chunk.size();
            for (int i = 0; i < chunk.size(); i++) {
                out.add(Arrays.copyOfRange(z, i * width, (i + 1) * width));
            }
        });
        return out;
    }

    /** {@link #top(float[], int, List)} named by this predictor's class names. */
    public List<Score> top(float[] logits, int k) {
        return top(logits, k, labels);
    }

    /**
     * The k largest softmax probabilities of one row of logits, named by {@code labels} (null: "class N");
     * ties keep the lower index first.
     */
    public static List<Score> top(float[] logits, int k, List<String> labels) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        Integer[] order = new Integer[logits.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        List<Score> scores = new ArrayList<>();
        for (int r = 0; r < Math.min(k, logits.length); r++) {
            int c = order[r];
            scores.add(new Score(c, labels != null ? labels.get(c) : "class " + c, Math.exp(logits[c] - max) / sum));
        }
        return scores;
    }

    @Override
    public void close() {
        if (ownsSession) {
            session.close();
        }
    }
}
