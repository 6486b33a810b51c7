package dev.cnnzoo.lenet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Conformance
class FashionCnnTorchConformanceTest {
    @TempDir
    Path dir;

    @Test
    void pytorchWeightsLoadByNameAndGivePytorchsLogits() {
        Path weightsFile = dir.resolve("fashion-cnn.safetensors");
        Path batchFile = dir.resolve("batch.safetensors");
        String out = Python.runResource(getClass(), "fashion_cnn_torch.py", weightsFile.toString(), batchFile.toString());
        assertTrue(out.contains("parameters 1413834"), out);

        Model model = ModelZoo.load().build("fashion-cnn");
        Weights weights = Safetensors.read(weightsFile);
        var batch = Safetensors.read(batchFile);
        Tensor logits;
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(model, weights, ExportOptions.defaults()), RuntimeOptions.cpu(2))) {
            logits = s.run(batch.get("input"));
        }
        Close.assertRelative("fashion-cnn logits vs PyTorch", batch.get("logits").floats(), logits.floats(), 1e-4);
    }
}
