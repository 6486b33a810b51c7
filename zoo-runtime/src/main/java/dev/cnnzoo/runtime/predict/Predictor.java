package dev.cnnzoo.runtime.predict;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.runtime.image.ImageTransform;
import dev.cnnzoo.runtime.image.Planes;
import dev.cnnzoo.weights.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Classifies images with a zoo model: each image goes through the model's preprocessing
 * ({@link ImageTransform}), the images run in batches, and each gets its most probable classes
 * (softmax over the logits) with their names.
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

    private final Model model;
    private final InferenceSession session;
    private final ImageTransform transform;
    private final List<String> labels;
    private final int batch;

    private Predictor(Model model, InferenceSession session, ImageTransform transform, List<String> labels, int batch) {
        this.model = model;
        this.session = session;
        this.transform = transform;
        this.labels = labels;
        this.batch = batch;
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
        List<String> names = labels != null && labels.size() == model.config().classes() ? List.copyOf(labels) : null;
        return new Predictor(model, ZooSessions.open(model, weights, options), ImageTransform.forModel(model), names, batch);
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
        int classes = model.config().classes();
        List<Prediction> out = new ArrayList<>();
        ImageBatches.forEach(model, transform, inputs, batch, (chunk, pixels) -> {
            float[] z = session.run(pixels).floats();
            for (int i = 0; i < chunk.size(); i++) {
                out.add(new Prediction(chunk.get(i), top(Arrays.copyOfRange(z, i * classes, (i + 1) * classes), k, labels)));
            }
        });
        return out;
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
        session.close();
    }
}
