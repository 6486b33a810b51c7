package dev.cnnzoo.lenet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Summary;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.OnnxChecker;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

class LeNetModelsTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @TempDir
    Path dir;

    @Test
    void serviceLoaderFindsTheLeNetModels() {
        assertEquals(List.of("fashion-cnn", "lenet5", "lenet5-modern"),
                ZOO.family("lenet").stream().map(ModelInfo::id).toList());
    }

    @Test
    void lenet5HasThePapersSixtyThousandParameters() {
        Summary s = Summary.of(ZOO.build("lenet5").graph());
        // LeCun et al. 1998, §II.B: C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164; RBF codes are fixed.
        Map<String, Long> byLayer = s.rows(1).stream().collect(Collectors.toMap(Summary.Row::layer, Summary.Row::parameters));
        assertEquals(156L, byLayer.get("c1"));
        assertEquals(12L, byLayer.get("s2"));
        assertEquals(1_516L, byLayer.get("c3"));
        assertEquals(32L, byLayer.get("s4"));
        assertEquals(48_120L, byLayer.get("c5"));
        assertEquals(10_164L, byLayer.get("f6"));
        assertEquals(0L, byLayer.get("output"));
        assertEquals(60_000L, s.parameters());
    }

    @Test
    void lenet5LayerShapesFollowThePaper() {
        Summary s = Summary.of(ZOO.build("lenet5").graph());
        Map<String, String> shapes = s.rows(1).stream().collect(Collectors.toMap(Summary.Row::layer, r -> r.output().toString()));
        assertEquals("N×6×28×28", shapes.get("c1"));
        assertEquals("N×6×14×14", shapes.get("s2"));
        assertEquals("N×16×10×10", shapes.get("c3"));
        assertEquals("N×16×5×5", shapes.get("s4"));
        // C5 is 120 maps of 1×1; the flatten that follows joins its row.
        assertEquals("N×120", shapes.get("c5"));
        assertEquals("N×84", shapes.get("f6"));
        assertEquals("N×10", shapes.get("output"));
    }

    @Test
    void modernLeNet5AndFashionCnnCounts() {
        // The modern LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850.
        assertEquals(61_706, ZOO.build("lenet5-modern").graph().trainableParameterCount());
        // PyTorch's count of the Fashion-MNIST network of Géron's Hands-On Machine Learning (2nd ed., ch. 14) (the figure; the conformance test recounts it).
        assertEquals(1_413_834, ZOO.build("fashion-cnn").graph().trainableParameterCount());
    }

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "lenet5-modern", "fashion-cnn"})
    void runsAtBatchOneAndSevenFromOneFile(String id) throws IOException {
        Model model = ZOO.build(id);
        Path file = dir.resolve(id + ".onnx");
        ModelExporter.write(model, Weights.initial(model.graph(), 1), file, ExportOptions.defaults());
        try (InferenceSession s = InferenceSession.open(file, RuntimeOptions.cpu(2))) {
            Tensor seven = TestTensors.images(7, 1, 28, 28, 5);
            Tensor out7 = s.run(seven);
            assertArrayEquals(new int[] {7, 10}, out7.shape().dims());
            // The first image alone gives the first row of the batch (no dropout in the inference form).
            Tensor one = s.run(Tensor.of(dev.cnnzoo.graph.Shape.of(1, 1, 28, 28), java.util.Arrays.copyOf(seven.floats(), 784)));
            assertArrayEquals(one.floats(), java.util.Arrays.copyOf(out7.floats(), 10), 1e-4f);
        }
    }

    @Test
    void safetensorsRoundTripGivesBitIdenticalOutputs() throws IOException {
        Model model = ZOO.build("fashion-cnn");
        Weights original = Weights.initial(model.graph(), 42);
        Path file = dir.resolve("fashion-cnn.safetensors");
        Safetensors.write(file, original, Map.of("zoo.id", "fashion-cnn"));
        Weights reread = Safetensors.read(file);
        Tensor batch = TestTensors.images(3, 1, 28, 28, 9);
        float[] a;
        float[] b;
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(model, original, ExportOptions.defaults()), RuntimeOptions.cpu(1))) {
            a = s.run(batch).floats();
        }
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(model, reread, ExportOptions.defaults()), RuntimeOptions.cpu(1))) {
            b = s.run(batch).floats();
        }
        assertArrayEquals(a, b, 0f);
    }

    @Test
    void configOverridesAndErrors() {
        Model cifar = ZOO.build("lenet5-modern", ModelConfig.builder().input(3, 32, 32).classes(100).build());
        assertEquals("N×100", cifar.graph().mainOutput().shape().toString());
        Model lenetFive = ZOO.build("lenet5", ModelConfig.builder().classes(5).build());
        assertEquals("N×5", lenetFive.graph().mainOutput().shape().toString());
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> ZOO.build("lenet5", ModelConfig.builder().inputSize(16, 16).build()));
        assertTrue(e.getMessage().startsWith("input 1×16×16 does not fit lenet5 (default 1×28×28): layer 'c5'"), e.getMessage());
        Model features = ZOO.build("fashion-cnn", ModelConfig.builder().includeTop(false).build());
        assertEquals("N×256", features.graph().mainOutput().shape().toString());
    }

    @Conformance
    @Test
    void everyLeNetModelPassesTheFullChecker() throws IOException {
        Path[] files = ZOO.family("lenet").stream().map(info -> {
            Model m = ZOO.build(info.id());
            Path f = dir.resolve(info.id() + ".onnx");
            try {
                ModelExporter.write(m, Weights.initial(m.graph(), 0), f, ExportOptions.defaults());
            } catch (IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
            return f;
        }).toArray(Path[]::new);
        OnnxChecker.fullCheck(files);
    }
}
