package dev.cnnzoo.googlenet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Counterparts;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * torchvision's GoogLeNet (with its auxiliary classifiers) and Inception v3, seeded random weights
 * loaded by name into the zoo's {@code googlenet-bn} and {@code inception-v3}: the inference export
 * gives torchvision's eval-mode logits, and the training-form export gives its auxiliary logits.
 *
 * <p>The training form keeps dropout and the auxiliary outputs; run by ONNX Runtime, its Dropout
 * nodes (no {@code training_mode} input) pass values through and its batch norms use the running
 * statistics. The script computes torchvision's auxiliary logits the same way: the top module's
 * training flag set (torchvision computes the heads only then), every submodule in eval mode.
 */
@Conformance
class TorchvisionConformanceTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @TempDir
    Path dir;

    @Test
    void googlenetBnMatchesTorchvisionsGoogLeNetWithBothAuxiliaryHeads() throws IOException {
        compare("googlenet-bn", 13_004_888, List.of("aux1", "aux2"));
    }

    @Test
    void inceptionV3MatchesTorchvisionsInceptionV3WithItsAuxiliaryHead() throws IOException {
        compare("inception-v3", 27_161_264, List.of("aux1"));
    }

    private void compare(String id, long parameters, List<String> auxiliary) throws IOException {
        Path weightsFile = dir.resolve(id + ".safetensors");
        Path batchFile = dir.resolve(id + "-batch.safetensors");
        String out = Python.runResource(getClass(), "torchvision_inception.py", Counterparts.of(ZOO, Counterpart.Library.TORCHVISION, id),
                weightsFile.toString(), batchFile.toString());
        assertTrue(out.contains("parameters " + parameters), out);

        Model model = ZOO.build(id);
        Weights loaded = Safetensors.read(weightsFile);
        assertEquals(List.of(), loaded.unused(model.graph()), "torchvision tensors the zoo model has no place for");
        Weights weights = loaded.bind(model.graph());
        Map<String, Tensor> expected = Safetensors.read(batchFile).asMap();
        Tensor batch = expected.get("input");

        Path inference = dir.resolve(id + ".onnx");
        ModelExporter.write(model, weights, inference, ExportOptions.defaults());
        try (InferenceSession s = InferenceSession.open(inference, RuntimeOptions.cpu(2))) {
            assertEquals(1, s.outputs().size(), "the inference form has the logits alone");
            Close.assertRelative(id + " logits vs torchvision", expected.get("logits").floats(), s.run(batch).floats(), 1e-4);
        }

        Path training = dir.resolve(id + "-training.onnx");
        ModelExporter.write(model, weights, training, ExportOptions.defaults().asBuilt());
        try (InferenceSession s = InferenceSession.open(training, RuntimeOptions.cpu(2))) {
            Map<String, Tensor> outputs = s.run(Map.of("input", batch));
            Close.assertRelative(id + " training-form logits vs torchvision", expected.get("logits").floats(),
                    outputs.get("logits").floats(), 1e-4);
            for (String name : auxiliary) {
                Close.assertRelative(id + " " + name + " vs torchvision", expected.get(name).floats(), outputs.get(name).floats(), 1e-4);
            }
        }
    }
}
