package dev.cnnzoo.vgg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Export and ONNX Runtime without Python: the smallest plain and batch-norm forms, with the zoo's
 * own initialisation, at batch 1 and 2. (Every form runs at both batches against torchvision in
 * the conformance profile; the one builder makes the others differ only in depth.)
 */
class VggRuntimeTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"vgg11", "vgg11-bn"})
    void runsAtBatchOneAndTwo(String id) throws IOException {
        Model model = ZOO.build(id);
        Path file = dir.resolve(id + ".onnx");
        ModelExporter.write(model, Weights.initial(model.graph(), 5), file, ExportOptions.defaults());
        try (InferenceSession s = InferenceSession.open(file, RuntimeOptions.cpu(2))) {
            Tensor two = TestTensors.images(2, 3, 224, 224, 6);
            Tensor logits = s.run(two);
            assertArrayEquals(new int[] {2, 1000}, logits.shape().dims());
            Tensor first = Tensor.of(Shape.of(1, 3, 224, 224), Arrays.copyOf(two.floats(), 3 * 224 * 224));
            // The inference form has no dropout: an image gives the same logits alone or in a batch.
            Close.assertRelative(id + " batch 1 vs the first of batch 2", Arrays.copyOf(logits.floats(), 1000),
                    s.run(first).floats(), 1e-5);
        }
    }
}
