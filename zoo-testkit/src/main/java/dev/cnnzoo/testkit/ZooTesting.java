package dev.cnnzoo.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Shared steps of the model tests: export, run in ONNX Runtime, random inputs. */
public final class ZooTesting {
    private ZooTesting() {
    }

    /** Exports {@code model} with seeded initial weights to {@code dir/<id>.onnx}. */
    public static Path export(Model model, Path dir) {
        return export(model, Weights.initial(model.graph(), model.config().seed()), dir, ExportOptions.defaults());
    }

    public static Path export(Model model, Weights weights, Path dir, ExportOptions options) {
        Path file = dir.resolve(model.id() + ".onnx");
        try {
            ModelExporter.write(model, weights, file, options);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A batch of the model's input shape, uniform in [−1, 1), fixed by {@code seed}. */
    public static Tensor randomInput(Model model, int batch, long seed) {
        int[] size = model.config().inputSize();
        return random(Shape.of(batch, model.config().inputChannels(), size[0], size[1]), seed);
    }

    public static Tensor random(Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[Math.toIntExact(shape.elements())];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(shape, a);
    }

    /**
     * Runs the exported file in ONNX Runtime at each batch size and checks the logits' shape and that
     * they are finite; returns the last batch's logits.
     */
    public static Tensor runBatches(Model model, Path onnx, int... batches) {
        Tensor last = null;
        try (InferenceSession s = InferenceSession.open(onnx, RuntimeOptions.cpu(2))) {
            for (int b : batches) {
                Tensor out = s.run(randomInput(model, b, b));
                assertArrayEquals(new int[] {b, model.config().classes()}, out.shape().dims(), model.id() + " logits at batch " + b);
                for (float v : out.floats()) {
                    assertTrue(Float.isFinite(v), model.id() + " produced a non-finite logit at batch " + b);
                }
                last = out;
            }
        }
        return last;
    }
}
