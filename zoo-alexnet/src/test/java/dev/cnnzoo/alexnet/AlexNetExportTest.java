package dev.cnnzoo.alexnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.OnnxChecker;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every id of the family (and alexnet's two-GPU form) exported once, with its own initialisation,
 * then run by ONNX Runtime at batch 1 and 2 and, in the conformance profile, checked by the full
 * ONNX checker. The files are about 240 MB each and live only as long as this class.
 */
class AlexNetExportTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @TempDir
    static Path dir;

    /** File name → the model written to it. */
    private static final Map<String, Model> EXPORTED = new LinkedHashMap<>();

    @BeforeAll
    static void exportEveryForm() throws IOException {
        export("alexnet", ZOO.build("alexnet"));
        export("alexnet-groups2", ZOO.build("alexnet", ModelConfig.builder().option("groups", "2").build()));
        export("alexnet-tv", ZOO.build("alexnet-tv"));
        export("zfnet", ZOO.build("zfnet"));
    }

    private static void export(String name, Model model) throws IOException {
        ModelExporter.write(model, Weights.initial(model.graph(), 3), dir.resolve(name + ".onnx"), ExportOptions.defaults());
        EXPORTED.put(name, model);
    }

    @ParameterizedTest
    @ValueSource(strings = {"alexnet", "alexnet-groups2", "alexnet-tv", "zfnet"})
    void runsAtBatchOneAndTwo(String name) {
        Model model = EXPORTED.get(name);
        int[] size = model.config().inputSize();
        try (InferenceSession s = InferenceSession.open(dir.resolve(name + ".onnx"), RuntimeOptions.cpu(2))) {
            Tensor two = TestTensors.images(2, 3, size[0], size[1], 8);
            Tensor logits = s.run(two);
            assertArrayEquals(new int[] {2, 1000}, logits.shape().dims());
            int perImage = 3 * size[0] * size[1];
            Tensor first = Tensor.of(Shape.of(1, 3, size[0], size[1]), Arrays.copyOf(two.floats(), perImage));
            float[] alone = s.run(first).floats();
            assertEquals(1000, alone.length);
            // The inference form has no dropout: an image gives the same logits alone or in a batch.
            assertArrayEquals(Arrays.copyOf(logits.floats(), 1000), alone, 1e-5f * max(alone));
        }
    }

    @Conformance
    @Test
    void everyExportPassesTheFullChecker() {
        OnnxChecker.fullCheck(EXPORTED.keySet().stream().map(n -> dir.resolve(n + ".onnx")).toArray(Path[]::new));
    }

    private static float max(float[] a) {
        float m = 1e-12f;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
