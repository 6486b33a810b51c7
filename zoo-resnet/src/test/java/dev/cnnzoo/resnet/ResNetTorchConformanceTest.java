package dev.cnnzoo.resnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
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
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PyTorch's networks with seeded random weights (batch norm statistics and affine terms
 * randomised too), loaded into the zoo's by name from safetensors, give PyTorch's logits within
 * 1e-4 relative: torchvision's resnet18, resnet50 and resnet152 as torchvision builds them, and
 * SE-ResNet-50 and the pre-activation networks assembled independently in the script.
 */
@Conformance
class ResNetTorchConformanceTest {
    @TempDir
    static Path dir;
    private static String pythonOutput;

    @BeforeAll
    static void runPyTorchOnce() {
        pythonOutput = Python.runResource(ResNetTorchConformanceTest.class, "resnet_torch.py", dir.toString(),
                Counterparts.byId(ModelZoo.load(), Counterpart.Library.TORCHVISION, "resnet18", "resnet50", "resnet152"));
    }

    @Test
    void torchvisionResnet18() {
        assertSameLogits("resnet18", "resnet18", ModelConfig.defaults(), 11_689_512);
    }

    @Test
    void torchvisionResnet50() {
        assertSameLogits("resnet50", "resnet50", ModelConfig.defaults(), 25_557_032);
    }

    @Test
    void torchvisionResnet152() {
        assertSameLogits("resnet152", "resnet152", ModelConfig.defaults(), 60_192_808);
    }

    /** The same resnet50 weights with the stride moved to each downsampling unit's first 1×1, as in the paper. */
    @Test
    void resnet50StridingInTheFirst1x1() {
        assertSameLogits("resnet50-stride1x1", "resnet50",
                ModelConfig.builder().option(ResNetProvider.STRIDE_IN, ResNetProvider.STRIDE_1X1).build(), 25_557_032);
    }

    @Test
    void seResnet50() {
        assertSameLogits("se-resnet50", "se-resnet50", ModelConfig.defaults(), 28_088_024);
    }

    @Test
    void preActResnet18() {
        assertSameLogits("preact-resnet18", "preact-resnet18", ModelConfig.defaults(), 11_687_720);
    }

    @Test
    void preActResnet110WithZeroPaddedShortcuts() {
        assertSameLogits("preact-resnet110", "preact-resnet110", ModelConfig.defaults(), 1_727_962);
    }

    @Test
    void preActResnet164() {
        assertSameLogits("preact-resnet164", "preact-resnet164", ModelConfig.defaults(), 1_703_258);
    }

    private static void assertSameLogits(String reference, String weightsOf, ModelConfig config, long parameters) {
        assertTrue(pythonOutput.contains(reference + " parameters " + parameters + "\n"), pythonOutput);
        Model model = ModelZoo.load().build(reference.replace("-stride1x1", ""), config);
        assertEquals(parameters, model.graph().trainableParameterCount());
        Weights weights = Safetensors.read(dir.resolve(weightsOf + ".safetensors"));
        assertEquals(java.util.List.of(), weights.unused(model.graph()), "every PyTorch tensor has a home in " + reference);
        var io = Safetensors.read(dir.resolve(reference + "-io.safetensors"));
        float[] logits;
        try (InferenceSession s = InferenceSession.open(ModelExporter.toBytes(model, weights, ExportOptions.defaults()),
                RuntimeOptions.cpu(2))) {
            logits = s.run(io.get("input")).floats();
        }
        Close.assertRelative(reference + " logits vs PyTorch", io.get("logits").floats(), logits, 1e-4);
    }
}
