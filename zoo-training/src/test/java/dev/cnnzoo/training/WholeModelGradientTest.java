package dev.cnnzoo.training;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole-network gradients against PyTorch autograd on the same weights, batch, labels and dropout masks. */
@Conformance
class WholeModelGradientTest {
    @TempDir
    Path dir;

    @Test
    void fashionCnnMatchesPytorchAutograd() throws IOException {
        Model model = ModelZoo.load().build("fashion-cnn");
        TrainingGraph tg = TrainingGraph.build(model.graph(), Loss.crossEntropy(), Set.of(), false);
        int batch = 4;
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        feeds.put("input", TestTensors.images(batch, 1, 28, 28, 11));
        SplittableRandom r = new SplittableRandom(5);
        feeds.put(TrainingGraph.LABELS, Tensor.ofLongs(Shape.of(batch), r.longs(batch, 0, 10).toArray()));
        for (TrainingGraph.DropoutMask m : tg.masks()) {
            float[] mask = new float[Math.toIntExact(m.shape().elements(batch))];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = r.nextDouble() < m.rate() ? 0f : (float) (1 / (1 - m.rate()));
            }
            feeds.put(m.input(), Tensor.of(m.shape().withBatch(batch), mask));
        }
        Weights weights = Weights.initial(model.graph(), 3);
        Path weightsFile = dir.resolve("weights.safetensors");
        Path batchFile = dir.resolve("batch.safetensors");
        Path gradsFile = dir.resolve("grads.safetensors");
        Safetensors.write(weightsFile, weights, Map.of());
        Safetensors.write(batchFile, Weights.of(feeds), Map.of());
        Python.runResource(getClass(), "fashion_cnn_grads.py", weightsFile.toString(), batchFile.toString(), gradsFile.toString());
        Weights torch = Safetensors.read(gradsFile);

        Map<String, Tensor> all = new HashMap<>(feeds);
        all.putAll(weights.asMap());
        byte[] onnx = OnnxExporter.toBytes(tg.graph(), null, ExportOptions.defaults().asBuilt().weightsAsInputs(true));
        try (InferenceSession s = InferenceSession.open(onnx, RuntimeOptions.cpu(2))) {
            Map<String, Tensor> out = s.run(all);
            Close.assertRelative("loss", torch.get("loss").floats(), out.get("loss").floats(), 1e-4);
            for (String p : tg.trainable()) {
                Close.assertRelative("d loss / d " + p, torch.get(p + "_grad").floats(), out.get(p + "_grad").floats(), 1e-3);
            }
        }
    }
}
