package dev.cnnzoo.training.run;

import dev.cnnzoo.api.Model;
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
        int classes = model.config().classes();
        long[] correct = new long[classes];
        long[] total = new long[classes];
        int[] predictions = new int[data.size()];
        double lossSum = 0;
        int seen = 0;
        try (InferenceSession s = InferenceSession.open(onnx, runtime);
                BatchLoader loader = new BatchLoader(data, model.info().preprocessing(), Augmentation.none(), batchSize, 0, 2)) {
            for (Iterator<BatchLoader.Batch> it = loader.evaluation(); it.hasNext();) {
                BatchLoader.Batch b = it.next();
                Map<String, Tensor> out = s.run(Map.of("input", b.images(), TrainingGraph.LABELS,
                        Tensor.ofLongs(Shape.of(b.size()), b.labels())));
                lossSum += out.get(TrainingGraph.LOSS).floats()[0] * b.size();
                float[] z = out.get(logitsName).floats();
                for (int i = 0; i < b.size(); i++) {
                    int best = 0;
                    for (int k = 1; k < classes; k++) {
                        if (z[i * classes + k] > z[i * classes + best]) {
                            best = k;
                        }
                    }
                    int label = (int) b.labels()[i];
                    predictions[seen + i] = best;
                    total[label]++;
                    if (best == label) {
                        correct[label]++;
                    }
                }
                seen += b.size();
            }
        }
        long hits = 0;
        for (long c : correct) {
            hits += c;
        }
        return new Result(lossSum / seen, (double) hits / seen, correct, total, predictions);
    }
}
