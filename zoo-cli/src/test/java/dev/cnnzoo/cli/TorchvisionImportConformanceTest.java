package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Counterpart;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.runtime.interchange.WeightImport;
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
 * Weights exported from torchvision, imported into the zoo's ResNets, give torchvision's logits.
 * The Python script writes every file once for the class (resnet50 is exported once).
 */
@Conformance
class TorchvisionImportConformanceTest {
    @TempDir
    static Path dir;

    private static final ModelZoo ZOO = ModelZoo.load();
    private static Weights batch;

    @BeforeAll
    static void export() {
        String out = Python.runResource(TorchvisionImportConformanceTest.class, "torchvision_exports.py", dir.toString(),
                Counterparts.byId(ZOO, Counterpart.Library.TORCHVISION, "resnet50", "resnet18"));
        assertTrue(out.contains("counters 20"), out);
        batch = Safetensors.read(dir.resolve("batch.safetensors"));
    }

    private static Tensor logits(Model model, Weights weights) {
        try (InferenceSession s = ZooSessions.open(model, weights, RuntimeOptions.cpu(2))) {
            return s.run(batch.get("input"));
        }
    }

    @Test
    void resnet50FromTorchOnnxExportGivesThatFilesLogits() {
        Path file = dir.resolve("resnet50.onnx");
        Path imported = dir.resolve("resnet50.safetensors");
        ZooCommandTest.Result r = ZooCommandTest.zoo("import", "resnet50", file.toString(), "-o", imported.toString());
        assertEquals(0, r.exit(), r.err());
        // 53 convolutions by their nodes (the exporter renamed their weights), each with its folded batch
        // norm restored; the classifier by name; nothing left over.
        assertTrue(r.out().startsWith("resnet50: 267 tensors from " + file + ": 2 by name, 53 by the ONNX node using them, "
                + "212 batch-norm tensors restored from 53 folded convolutions\n"), r.out());
        assertFalse(r.out().contains("not used"), r.out());
        Tensor expected;
        try (InferenceSession s = InferenceSession.open(file, RuntimeOptions.cpu(2))) {
            expected = s.run(batch.get("input"));
        }
        Tensor zoo = logits(ZOO.build("resnet50"), Safetensors.read(imported));
        Close.assertRelative("resnet50 imported vs the torchvision ONNX file, same runtime", expected.floats(), zoo.floats(), 1e-4);
        System.out.printf("resnet50: max |zoo − torchvision ONNX| / max |logit| = %.2e%n", relative(expected.floats(), zoo.floats()));
        Close.assertRelative("resnet50 imported vs PyTorch", batch.get("resnet50").floats(), zoo.floats(), 1e-4);
    }

    private static double relative(float[] expected, float[] actual) {
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs((double) expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        return worst / scale;
    }

    @Test
    void resnet18WithBatchNormsKeptMapsEveryTensorByItsNode() {
        Model model = ZOO.build("resnet18");
        WeightImport.Report r = WeightImport.from(dir.resolve("resnet18-preserve.onnx"), model, false);
        assertEquals(0, r.count(WeightImport.How.FOLDED));
        assertEquals(model.graph().parameters().size(), r.count(WeightImport.How.NAME) + r.count(WeightImport.How.NODE));
        Close.assertRelative("resnet18 (PRESERVE export) vs PyTorch", batch.get("resnet18").floats(), logits(model, r.weights()).floats(), 1e-4);
    }

    @Test
    void stateDictWithAWrapperPrefixMapsByName() {
        Model model = ZOO.build("resnet18");
        WeightImport.Report r = WeightImport.from(dir.resolve("resnet18.safetensors"), model, false);
        assertEquals(model.graph().parameters().size(), r.count(WeightImport.How.NAME));
        assertEquals("module.layer1.0.bn1.running_var", r.sources().get("layer1.0.bn1.running_var"));
        assertEquals(20, r.counters(), "num_batches_tracked counters are left out, counted");
        assertTrue(r.unused().isEmpty(), r.unused().toString());
        Close.assertRelative("resnet18 (state dict) vs PyTorch", batch.get("resnet18").floats(), logits(model, r.weights()).floats(), 1e-4);
    }
}
