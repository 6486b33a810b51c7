package dev.cnnzoo.training.run;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.BatchLoader;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.weights.Weights;
import java.util.Iterator;
import java.util.Map;

/** A trained network's loss and accuracy on a dataset, in inference mode. */
public final class Evaluator {
    /** Overall and per-class figures, and each image's predicted class. */
    public record Result(double loss, double accuracy, long[] correctPerClass, long[] totalPerClass, int[] predictions) {
    }

    private Evaluator() {
    }

    /**
     * Evaluates in batches of {@code batchSize}.
     *
     * @throws dev.cnnzoo.api.ZooException when the batch size is below 1, the data is empty, or the data's
     *                                     classes are not the model's outputs
     */
    public static Result evaluate(Model model, Weights weights, Dataset data, RuntimeOptions runtime, int batchSize) {
        if (batchSize < 1) {
            throw new dev.cnnzoo.api.ZooException("the batch size must be at least 1, got " + batchSize);
        }
        if (data.size() == 0) {
            throw new dev.cnnzoo.api.ZooException(data.description() + " holds no images");
        }
        if (!model.config().includeTop() || data.classes().size() != model.config().classes()) {
            throw new dev.cnnzoo.api.ZooException(data.description() + " has " + data.classes().size() + " classes but " + model.id()
                    + (model.config().includeTop() ? " has " + model.config().classes() + " outputs" : " is built without its classifier")
                    + "; labels and outputs must be the same classes");
        }
        byte[] onnx = OnnxExporter.toBytes(TrainingArtifacts.evalGraph(model.graph(), Loss.crossEntropy()), weights,
                ExportOptions.defaults().asBuilt());
        String logitsName = model.graph().mainOutput().name();
        Tally tally = new Tally(model.config().classes(), data.size());
        try (InferenceSession s = InferenceSession.open(onnx, runtime);
                BatchLoader loader = new BatchLoader(data, model.info().preprocessing(), Augmentation.none(), batchSize, 0, 2)) {
            for (Iterator<BatchLoader.Batch> it = loader.evaluation(); it.hasNext();) {
                BatchLoader.Batch b = it.next();
                Map<String, Tensor> out = s.run(Map.of("input", b.images(), TrainingGraph.LABELS,
                        Tensor.ofLongs(Shape.of(b.size()), b.labels())));
                tally.add(out.get(logitsName).floats(), b.labels(), out.get(TrainingGraph.LOSS).floats()[0] * b.size());
            }
        }
        return tally.result();
    }

    /**
     * The same figures for an ONNX classifier that outputs logits (an exported or quantized model
     * file, say): its first output is read as N×classes logits and the cross-entropy is computed
     * here. Images are normalised as {@code preprocessing} says.
     */
    public static Result evaluate(InferenceSession classifier, Preprocessing preprocessing, Dataset data, int batchSize) {
        String input = classifier.inputs().get(0).name();
        Tally tally = null;
        try (BatchLoader loader = new BatchLoader(data, preprocessing, Augmentation.none(), batchSize, 0, 2)) {
            for (Iterator<BatchLoader.Batch> it = loader.evaluation(); it.hasNext();) {
                BatchLoader.Batch b = it.next();
                Tensor logits = classifier.run(Map.of(input, b.images())).get(classifier.outputs().get(0).name());
                int classes = (int) (logits.elements() / b.size());
                if (tally == null) {
                    tally = new Tally(classes, data.size());
                }
                float[] z = logits.floats();
                tally.add(z, b.labels(), crossEntropy(z, b.labels(), classes));
            }
        }
        return tally.result();
    }

    /** The summed softmax cross-entropy of a batch of logit rows. */
    private static double crossEntropy(float[] z, long[] labels, int classes) {
        double sum = 0;
        for (int i = 0; i < labels.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                max = Math.max(max, z[i * classes + k]);
            }
            double exp = 0;
            for (int k = 0; k < classes; k++) {
                exp += Math.exp(z[i * classes + k] - max);
            }
            sum += max + Math.log(exp) - z[i * classes + (int) labels[i]];
        }
        return sum;
    }

    /** Running totals: loss, hits per class, each image's predicted class. */
    private static final class Tally {
        private final int classes;
        private final long[] correct;
        private final long[] total;
        private final int[] predictions;
        private double lossSum;
        private int seen;

        Tally(int classes, int images) {
            this.classes = classes;
            this.correct = new long[classes];
            this.total = new long[classes];
            this.predictions = new int[images];
        }

        void add(float[] z, long[] labels, double batchLoss) {
            lossSum += batchLoss;
            for (int i = 0; i < labels.length; i++) {
                int best = 0;
                for (int k = 1; k < classes; k++) {
                    if (z[i * classes + k] > z[i * classes + best]) {
                        best = k;
                    }
                }
                int label = (int) labels[i];
                if (label >= classes) {
                    throw new ZooException("the data has class " + label + " but the model tells " + classes + " classes apart");
                }
                predictions[seen + i] = best;
                total[label]++;
                if (best == label) {
                    correct[label]++;
                }
            }
            seen += labels.length;
        }

        Result result() {
            long hits = 0;
            for (long c : correct) {
                hits += c;
            }
            return new Result(lossSum / seen, (double) hits / seen, correct, total, predictions);
        }
    }
}
