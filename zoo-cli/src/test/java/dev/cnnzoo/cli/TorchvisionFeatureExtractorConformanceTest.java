package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zoo's feature extractors against torchvision's {@code create_feature_extractor} on the same
 * seeded weights: torchvision's state dict goes into {@code zoo export ID --features-only --weights},
 * and the exported file, run by ONNX Runtime, gives each torchvision node's maps as the zoo's
 * stage of that layer, within 1e-4 of their scale. One Python process writes all four networks.
 */
@Conformance
class TorchvisionFeatureExtractorConformanceTest {
    @TempDir
    static Path dir;

    /** torchvision's model, and the node it calls each of the zoo's stages, in stage order. */
    private record Case(String torchvision, List<String> nodes) {
        String spec() {
            return torchvision + ":" + String.join(",", nodes);
        }
    }

    /** torchvision names the stem's activation of ResNet "relu" where the zoo (as timm) says act1; the other layers share names. */
    private static final Case RESNET50 = new Case("resnet50", List.of("relu", "layer1", "layer2", "layer3", "layer4"));
    private static final Case VGG16_BN = new Case("vgg16_bn",
            List.of("features.5", "features.12", "features.22", "features.32", "features.42", "features.43"));
    private static final Case GOOGLENET = new Case("googlenet", List.of("conv1", "conv3", "inception3b", "inception4e", "inception5b"));
    private static final Case INCEPTION_V3 = new Case("inception_v3",
            List.of("Conv2d_2b_3x3", "Conv2d_4a_3x3", "Mixed_5d", "Mixed_6e", "Mixed_7c"));

    @BeforeAll
    static void runTorchvision() {
        Python.runResource(TorchvisionFeatureExtractorConformanceTest.class, "torchvision_features.py", dir.toString(),
                RESNET50.spec(), VGG16_BN.spec(), GOOGLENET.spec(), INCEPTION_V3.spec());
    }

    @Test
    void resnet50() throws IOException {
        assertSameStages("resnet50", RESNET50);
    }

    @Test
    void vgg16Bn() throws IOException {
        assertSameStages("vgg16-bn", VGG16_BN);
    }

    @Test
    void googlenetBn() throws IOException {
        assertSameStages("googlenet-bn", GOOGLENET);
    }

    @Test
    void inceptionV3() throws IOException {
        assertSameStages("inception-v3", INCEPTION_V3);
    }

    private static void assertSameStages(String id, Case reference) throws IOException {
        Path weights = dir.resolve(reference.torchvision() + ".safetensors");
        Path file = dir.resolve(id + "-features.onnx");
        ZooCommandTest.Result r = zoo("export", id, "--features-only", "--weights", weights.toString(), "-o", file.toString());
        assertEquals(0, r.exit(), r.err());
        Files.delete(weights);
        Weights io = Safetensors.read(dir.resolve(reference.torchvision() + "-io.safetensors"));
        Map<String, Tensor> stages;
        try (InferenceSession s = InferenceSession.open(file, RuntimeOptions.cpu(2))) {
            stages = s.run(Map.of("input", io.get("input")));
        } finally {
            Files.delete(file);
        }
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= reference.nodes().size(); i++) {
            names.add("stage" + i);
        }
        assertEquals(names, List.copyOf(stages.keySet()), id + " outputs a stage per torchvision node");
        for (int i = 0; i < names.size(); i++) {
            Tensor expected = io.get(reference.nodes().get(i));
            Tensor actual = stages.get(names.get(i));
            String what = id + " " + names.get(i) + " vs torchvision's " + reference.nodes().get(i);
            assertArrayEquals(expected.shape().dims(), actual.shape().dims(), what);
            Close.assertRelative(what, expected.floats(), actual.floats(), 1e-4);
        }
    }
}
