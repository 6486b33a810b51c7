package dev.cnnzoo.vgg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Summary;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Counterparts;
import dev.cnnzoo.testkit.OnnxChecker;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each VGG form against torchvision: its state dict (random weights, randomised batch-norm
 * statistics and affine parameters) loaded by name, exported, run by ONNX Runtime at batch 2 and
 * batch 1, gives torchvision's logits within 1e-4 of their scale; then the full ONNX checker runs
 * once over all eight files. The models are ~530 MB each, so every one is exported exactly once and
 * its state dict deleted as soon as it is in the ONNX file.
 */
@Conformance
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VggTorchvisionConformanceTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @TempDir
    static Path dir;

    private static String torchvision;
    private static final List<Path> EXPORTED = new ArrayList<>();

    static List<String> ids() {
        return List.of("vgg11", "vgg11-bn", "vgg13", "vgg13-bn", "vgg16", "vgg16-bn", "vgg19", "vgg19-bn");
    }

    @BeforeAll
    static void runTorchvision() {
        torchvision = Python.runResource(VggTorchvisionConformanceTest.class, "vgg_torchvision.py", dir.toString(),
                Counterparts.byId(ZOO, Counterpart.Library.TORCHVISION, ids().toArray(String[]::new)));
    }

    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("ids")
    void torchvisionWeightsGiveTorchvisionsLogitsAtBatchOneAndTwo(String id) throws IOException {
        Model model = ZOO.build(id);
        assertTrue(torchvision.contains(id + " parameters " + Summary.of(model.graph()).parameters() + "\n"), torchvision);
        Path stateDict = dir.resolve(id + ".safetensors");
        Weights weights = Safetensors.read(stateDict);
        assertEquals(List.of(), weights.unused(model.graph()), id + ": torchvision tensors the zoo has no name for");
        Path onnx = dir.resolve(id + ".onnx");
        ModelExporter.write(model, weights, onnx, ExportOptions.defaults());
        EXPORTED.add(onnx);
        Files.delete(stateDict);

        Weights batch = Safetensors.read(dir.resolve(id + "-batch.safetensors"));
        Tensor two = batch.get("input");
        float[] expected = batch.get("logits").floats();
        try (InferenceSession s = InferenceSession.open(onnx, RuntimeOptions.cpu(2))) {
            Tensor logits = s.run(two);
            assertArrayEquals(new int[] {2, 1000}, logits.shape().dims());
            Close.assertRelative(id + " logits vs torchvision, batch 2", expected, logits.floats(), 1e-4);
            Tensor first = Tensor.of(Shape.of(1, 3, 224, 224), Arrays.copyOf(two.floats(), 3 * 224 * 224));
            Close.assertRelative(id + " logits vs torchvision, batch 1", Arrays.copyOf(expected, 1000), s.run(first).floats(), 1e-4);
        }
    }

    @Order(2)
    @Test
    void everyExportPassesTheFullChecker() throws IOException {
        assertEquals(ids().size(), EXPORTED.size(), "every form exported before the check");
        try {
            OnnxChecker.fullCheck(EXPORTED.toArray(Path[]::new));
        } finally {
            for (Path p : EXPORTED) {
                Files.deleteIfExists(p);
            }
        }
    }
}
