package dev.cnnzoo.alexnet;

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
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PyTorch's state dicts loaded by name into the zoo's models give PyTorch's logits: torchvision's
 * alexnet (at 224×224, and at 256×256 where the adaptive pooling does real work), and the paper's
 * AlexNet and ZF Net as written independently in the script from their tables.
 */
@Conformance
class AlexNetTorchConformanceTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @TempDir
    static Path dir;

    private static String pytorch;

    @BeforeAll
    static void runPytorch() {
        pytorch = Python.runResource(AlexNetTorchConformanceTest.class, "alexnet_family_torch.py", dir.toString(),
                Counterparts.of(ZOO, Counterpart.Library.TORCHVISION, "alexnet-tv"));
    }

    @Test
    void torchvisionAlexnetWeightsGiveTorchvisionsLogits() {
        assertTrue(pytorch.contains("alexnet-tv parameters 61100840"), pytorch);
        Weights weights = Safetensors.read(dir.resolve("alexnet-tv.safetensors"));
        Weights batch = Safetensors.read(dir.resolve("alexnet-tv-batch.safetensors"));
        assertSameLogits(ZOO.build("alexnet-tv"), weights, batch, "224");
        assertSameLogits(ZOO.build("alexnet-tv", ModelConfig.builder().inputSize(256, 256).build()), weights, batch, "256");
    }

    @Test
    void twoGpuAlexnetMatchesPytorch() {
        assertTrue(pytorch.contains("alexnet-groups2 parameters 60965224"), pytorch);
        Model model = ZOO.build("alexnet", ModelConfig.builder().option("groups", "2").build());
        assertSameLogits(model, Safetensors.read(dir.resolve("alexnet-groups2.safetensors")),
                Safetensors.read(dir.resolve("alexnet-groups2-batch.safetensors")), "");
    }

    @Test
    void zfnetMatchesPytorch() {
        assertTrue(pytorch.contains("zfnet parameters 62357608"), pytorch);
        assertSameLogits(ZOO.build("zfnet"), Safetensors.read(dir.resolve("zfnet.safetensors")),
                Safetensors.read(dir.resolve("zfnet-batch.safetensors")), "");
    }

    private static void assertSameLogits(Model model, Weights weights, Weights batch, String key) {
        // The state dict holds exactly the zoo's parameter names: nothing left over, nothing missing (bind checks).
        assertEquals(List.of(), weights.unused(model.graph()), model.id() + ": tensors the zoo has no name for");
        float[] logits;
        byte[] onnx = ModelExporter.toBytes(model, weights, ExportOptions.defaults());
        try (InferenceSession s = InferenceSession.open(onnx, RuntimeOptions.cpu(2))) {
            logits = s.run(batch.get("input" + key)).floats();
        }
        Close.assertRelative(model.id() + " " + key + " logits vs PyTorch", batch.get("logits" + key).floats(), logits, 1e-4);
    }
}
