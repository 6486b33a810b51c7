package dev.cnnzoo.googlenet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.OnnxChecker;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every id exported in the inference form and in the training form (dropout and auxiliary outputs
 * kept), run by ONNX Runtime at batch 1 and 2, and (in the conformance profile) passed through the
 * full ONNX checker. Each model is exported once for the whole class.
 */
class InceptionExportTest {
    private static final ModelZoo ZOO = ModelZoo.load();
    private static final Map<String, Exported> EXPORTED = new ConcurrentHashMap<>();

    @TempDir
    static Path dir;

    /** The two files of one model and the outputs its training form has. */
    private record Exported(Model model, Path inference, Path training) {
        List<String> trainingOutputs() {
            return model.graph().outputs().stream().map(Graph.Output::name).toList();
        }
    }

    private static Exported exported(String id) {
        return EXPORTED.computeIfAbsent(id, key -> {
            Model model = ZOO.build(key);
            Weights weights = Weights.initial(model.graph(), 17);
            Path inference = dir.resolve(key + ".onnx");
            Path training = dir.resolve(key + "-training.onnx");
            try {
                ModelExporter.write(model, weights, inference, ExportOptions.defaults());
                ModelExporter.write(model, weights, training, ExportOptions.defaults().asBuilt());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Exported(model, inference, training);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"googlenet", "googlenet-bn", "inception-v3", "inception-v4", "inception-resnet-v1",
        "inception-resnet-v2", "xception"})
    void bothFormsRunAtBatchOneAndTwo(String id) {
        Exported e = exported(id);
        int[] size = e.model().config().inputSize();
        Tensor two = TestTensors.images(2, 3, size[0], size[1], 23);
        Tensor one = firstOf(two);

        Map<String, Tensor> inferenceTwo;
        try (InferenceSession s = InferenceSession.open(e.inference(), RuntimeOptions.cpu(2))) {
            assertEquals(List.of("logits"), s.outputs().stream().map(InferenceSession.Port::name).toList(),
                    id + ": the inference form drops the auxiliary outputs");
            inferenceTwo = s.run(Map.of("input", two));
            assertSameFirstRow(id + " inference", inferenceTwo, s.run(Map.of("input", one)));
        }
        try (InferenceSession s = InferenceSession.open(e.training(), RuntimeOptions.cpu(2))) {
            assertEquals(e.trainingOutputs(), s.outputs().stream().map(InferenceSession.Port::name).toList(),
                    id + ": the training form keeps every output");
            Map<String, Tensor> trainingTwo = s.run(Map.of("input", two));
            assertSameFirstRow(id + " training", trainingTwo, s.run(Map.of("input", one)));
            // Run without training_mode, the training form's Dropout nodes pass values through: same logits.
            Close.assertRelative(id + " training-form logits", inferenceTwo.get("logits").floats(),
                    trainingTwo.get("logits").floats(), 1e-5);
        }
    }

    /** Each output is N×classes, finite, different for the two images, and image 1 alone gives row 1 of the pair. */
    private static void assertSameFirstRow(String what, Map<String, Tensor> pair, Map<String, Tensor> single) {
        assertEquals(pair.keySet(), single.keySet(), what);
        for (String name : pair.keySet()) {
            Tensor p = pair.get(name);
            assertArrayEquals(new int[] {2, 1000}, p.shape().dims(), what + " " + name);
            assertArrayEquals(new int[] {1, 1000}, single.get(name).shape().dims(), what + " " + name);
            float[] v = p.floats();
            for (float f : v) {
                assertTrue(Float.isFinite(f), what + " " + name + " has a non-finite value");
            }
            float[] first = Arrays.copyOfRange(v, 0, 1000);
            assertFalse(Arrays.equals(first, Arrays.copyOfRange(v, 1000, 2000)), what + " " + name + ": both images give the same output");
            Close.assertRelative(what + " " + name + " at batch 1 vs row 1 at batch 2", first, single.get(name).floats(), 1e-5);
        }
    }

    private static Tensor firstOf(Tensor batch) {
        int[] d = batch.shape().dims();
        d[0] = 1;
        Shape one = Shape.of(d);
        return Tensor.of(one, Arrays.copyOf(batch.floats(), (int) one.elements()));
    }

    @Test
    void theInferenceFormKeepsTheAuxiliaryOutputsWhenAsked() {
        Model model = ZOO.build("googlenet-bn");
        byte[] onnx = ModelExporter.toBytes(model, Weights.initial(model.graph(), 3), ExportOptions.defaults().auxiliary(true));
        try (InferenceSession s = InferenceSession.open(onnx, RuntimeOptions.cpu(2))) {
            assertEquals(List.of("logits", "aux1", "aux2"), s.outputs().stream().map(InferenceSession.Port::name).toList());
            Map<String, Tensor> out = s.run(Map.of("input", TestTensors.images(1, 3, 224, 224, 4)));
            assertArrayEquals(new int[] {1, 1000}, out.get("aux2").shape().dims());
        }
    }

    @Conformance
    @Test
    void everyExportPassesTheFullChecker() {
        List<Path> files = new ArrayList<>();
        for (var info : ZOO.family("inception")) {
            Exported e = exported(info.id());
            files.add(e.inference());
            files.add(e.training());
        }
        OnnxChecker.fullCheck(files.toArray(Path[]::new));
    }
}
