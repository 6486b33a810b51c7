package dev.cnnzoo.runtime;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.weights.Weights;

/** Zoo models opened in ONNX Runtime straight from memory, without a file. */
public final class ZooSessions {
    private ZooSessions() {
    }

    /** The model's inference form with {@code weights}, opened with {@code options}. */
    public static InferenceSession open(Model model, Weights weights, RuntimeOptions options) {
        return InferenceSession.open(ModelExporter.toBytes(model, weights, ExportOptions.defaults()), options);
    }

    /** The model with its seeded initial weights. */
    public static InferenceSession open(Model model, RuntimeOptions options) {
        return open(model, Weights.initial(model.graph(), model.config().seed()), options);
    }
}
