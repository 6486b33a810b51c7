package dev.cnnzoo.resnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
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
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every id exported once at its defaults (ImageNet ids at 3×224×224, CIFAR ids at 3×32×32), run
 * by ONNX Runtime, and, in the conformance profile, checked by the full ONNX checker.
 */
class ResNetExportTest {
    private static final ModelZoo ZOO = ModelZoo.load();
    private static final Map<String, Path> FILES = new LinkedHashMap<>();

    @TempDir
    static Path dir;

    @BeforeAll
    static void exportEveryIdOnce() throws IOException {
        for (String id : ResNetModelsTest.IDS) {
            Model model = ZOO.build(id);
            Path file = dir.resolve(id + ".onnx");
            List<Path> written = ModelExporter.write(model, damped(Weights.initial(model.graph(), 7)), file, ExportOptions.defaults());
            assertEquals(List.of(file), written, id + " fits in one file");
            FILES.put(id, file);
        }
    }

    /**
     * Initial weights with each unit's last convolution scaled by 0.1. Untrained, batch norm in
     * inference form is the identity (running mean 0, variance 1), so every residual addition
     * doubles the signal's variance: 2^333 overflows float in preact-resnet1001. Damped, the
     * sum grows by about 1% a unit and every branch still contributes.
     */
    static Weights damped(Weights initial) {
        Map<String, String> lastConvOfUnit = new LinkedHashMap<>();
        for (String name : initial.names()) {
            Matcher m = UNIT_CONV.matcher(name);
            if (m.matches()) {
                lastConvOfUnit.merge(m.group(1), name, (a, b) -> a.compareTo(b) > 0 ? a : b);
            }
        }
        Weights w = initial;
        for (String name : lastConvOfUnit.values()) {
            float[] v = w.get(name).floats().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] *= 0.1f;
            }
            w = w.with(name, Tensor.of(w.get(name).shape(), v));
        }
        return w;
    }

    private static final Pattern UNIT_CONV = Pattern.compile("(layer\\d+\\.\\d+)\\.conv\\d\\.weight");

    static List<String> ids() {
        return ResNetModelsTest.IDS;
    }

    @ParameterizedTest
    @MethodSource("ids")
    void runsAtBatchOneAndTwoFromOneFile(String id) {
        ModelInfo info = ZOO.find(id);
        int[] in = info.inputShape();
        try (InferenceSession s = InferenceSession.open(FILES.get(id), RuntimeOptions.cpu(2))) {
            Tensor two = TestTensors.images(2, in[0], in[1], in[2], 11);
            float[] out2 = s.run(two).floats();
            assertEquals(2 * info.classes(), out2.length);
            for (float f : out2) {
                assertTrue(Float.isFinite(f), id + " gives a non-finite logit");
            }
            int perImage = in[0] * in[1] * in[2];
            Tensor first = Tensor.of(Shape.of(1, in[0], in[1], in[2]), Arrays.copyOf(two.floats(), perImage));
            Tensor out1 = s.run(first);
            assertArrayEquals(new int[] {1, info.classes()}, out1.shape().dims());
            float[] firstRow = Arrays.copyOf(out2, info.classes());
            Close.assertRelative(id + ": the first image alone vs in a batch of two", firstRow, out1.floats(), 1e-4);
            // Two different images give different logits: the network is not constant.
            assertTrue(!Arrays.equals(firstRow, Arrays.copyOfRange(out2, info.classes(), out2.length)));
        }
    }

    @Conformance
    @Test
    void everyExportPassesTheFullChecker() {
        // One checker process over every file: the largest (preact-resnet200) is 259 MB.
        OnnxChecker.fullCheck(FILES.values().toArray(Path[]::new));
    }

    /**
     * Fine-tuning replaces the head: an ImageNet network's weights, all but {@code fc}, start a
     * 10-class network whose logits are then exactly the pretrained backbone's pooled features
     * through the new head.
     */
    @Test
    void aReplacedHeadSitsOnThePretrainedBackbone() {
        ModelConfig small = ModelConfig.builder().inputSize(64, 64).build();
        Model imagenet = ZOO.build("resnet18", small);
        Weights pretrained = Weights.initial(imagenet.graph(), 5);
        Model tenClasses = ZOO.build("resnet18", small.toBuilder().classes(10).build());
        ZooException mismatch = assertThrows(ZooException.class, () -> pretrained.bind(tenClasses.graph()));
        assertTrue(mismatch.getMessage().startsWith("tensor 'fc.weight' has shape 1000×512 in the weights but 10×512"),
                mismatch.getMessage());

        Weights newHead = Weights.initial(tenClasses.graph(), 6);
        Weights start = pretrained.with("fc.weight", newHead.get("fc.weight")).with("fc.bias", newHead.get("fc.bias"));
        Model backbone = ZOO.build("resnet18", small.toBuilder().includeTop(false).build());
        Tensor batch = TestTensors.images(2, 3, 64, 64, 12);
        float[] features;
        float[] logits;
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(backbone, pretrained, ExportOptions.defaults()),
                RuntimeOptions.cpu(2))) {
            features = s.run(batch).floats();
        }
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(tenClasses, start, ExportOptions.defaults()),
                RuntimeOptions.cpu(2))) {
            logits = s.run(batch).floats();
        }
        float[] w = newHead.get("fc.weight").floats();
        float[] b = newHead.get("fc.bias").floats();
        float[] expected = new float[2 * 10];
        for (int n = 0; n < 2; n++) {
            for (int k = 0; k < 10; k++) {
                double sum = b[k];
                for (int c = 0; c < 512; c++) {
                    sum += (double) features[n * 512 + c] * w[k * 512 + c];
                }
                expected[n * 10 + k] = (float) sum;
            }
        }
        Close.assertRelative("10-class logits vs the backbone's features through the new head", expected, logits, 1e-4);
    }

    /**
     * Built for its features only, the network gives each stage's maps; the last one, pooled, is
     * what the headless network outputs. The stem's stride-2 activation is stage1 (the former
     * family option started at layer1), so the four unit stages are stage2..stage5.
     */
    @Test
    void featureExtractionRunsAndAgreesWithTheHeadlessNetwork() {
        ModelConfig small = ModelConfig.builder().inputSize(64, 64).build();
        Model stages = ZOO.build("se-resnet50", small.toBuilder().featuresOnly(true).build());
        Model headless = ZOO.build("se-resnet50", small.toBuilder().includeTop(false).build());
        Weights weights = Weights.initial(ZOO.build("se-resnet50", small).graph(), 8);
        Tensor batch = TestTensors.images(2, 3, 64, 64, 13);
        Map<String, Tensor> maps;
        float[] pooled;
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(stages, weights, ExportOptions.defaults()),
                RuntimeOptions.cpu(2))) {
            maps = s.run(Map.of("input", batch));
        }
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(headless, weights, ExportOptions.defaults()),
                RuntimeOptions.cpu(2))) {
            pooled = s.run(batch).floats();
        }
        assertEquals(List.of("stage1", "stage2", "stage3", "stage4", "stage5"), List.copyOf(maps.keySet()));
        assertArrayEquals(new int[] {2, 64, 32, 32}, maps.get("stage1").shape().dims());
        assertArrayEquals(new int[] {2, 256, 16, 16}, maps.get("stage2").shape().dims());
        assertArrayEquals(new int[] {2, 512, 8, 8}, maps.get("stage3").shape().dims());
        assertArrayEquals(new int[] {2, 1024, 4, 4}, maps.get("stage4").shape().dims());
        assertArrayEquals(new int[] {2, 2048, 2, 2}, maps.get("stage5").shape().dims());
        float[] last = maps.get("stage5").floats();
        float[] mean = new float[2 * 2048];
        for (int i = 0; i < mean.length; i++) {
            mean[i] = (last[4 * i] + last[4 * i + 1] + last[4 * i + 2] + last[4 * i + 3]) / 4;
        }
        Close.assertRelative("stage5 averaged vs the headless network's features", mean, pooled, 1e-5);
    }
}
