package dev.cnnzoo.runtime.predict;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
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

    private final InferenceSession session;
    private final ImageTransform transform;
    /** The input of one image: channels, height, width. */
    private final int[] input;
    private final int classes;
    private final List<String> labels;
    private final int batch;

    private Predictor(InferenceSession session, Preprocessing pre, int[] input, int classes, List<String> labels, int batch) {
        this.session = session;
        this.transform = new ImageTransform(pre, input[0], input[1], input[2]);
        this.input = input.clone();
        this.classes = classes;
        this.labels = labels != null && labels.size() == classes ? List.copyOf(labels) : null;
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
            throw new ZooException(model.id() + " is built without its classifier (--no-top); it has no classes to predict");
        }
        if (batch < 1) {
            throw new ZooException("the batch size must be at least 1, got " + batch);
        }
        int[] size = model.config().inputSize();
        return new Predictor(ZooSessions.open(model, weights, options), model.info().preprocessing(),
                new int[] {model.config().inputChannels(), size[0], size[1]}, model.config().classes(), labels, batch);
    }

    /**
     * Opens an ONNX classifier the zoo wrote (an export, an INT8 quantization): its metadata says
     * how to preprocess images and their size; its output, how many classes.
     *
     * @param labels the class names by index for the number of classes the file scores (null: "class N")
     * @throws ZooException when the names given are not one per class
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
            return new Predictor(session, pre, chw, classes, names, batch);
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }

    /** The number of classes the model scores. */
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
        int per = input[0] * input[1] * input[2];
        List<Prediction> out = new ArrayList<>();
        for (int start = 0; start < inputs.size(); start += batch) {
            List<Input> chunk = inputs.subList(start, Math.min(inputs.size(), start + batch));
            float[] pixels = new float[chunk.size() * per];
            for (int i = 0; i < chunk.size(); i++) {
                transform.apply(chunk.get(i).image(), pixels, i * per);
            }
            Tensor logits = session.run(Tensor.of(Shape.of(chunk.size(), input[0], input[1], input[2]), pixels));
            float[] z = logits.floats();
            for (int i = 0; i < chunk.size(); i++) {
                out.add(new Prediction(chunk.get(i), top(Arrays.copyOfRange(z, i * classes, (i + 1) * classes), k)));
            }
        }
        return out;
    }

    /** The k largest softmax probabilities of one row of logits; ties keep the lower index first. */
    private List<Score> top(float[] logits, int k) {
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
