package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.interchange.WeightImport;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --weights means the same on every command: 'pretrained', a safetensors file or an ONNX file. */
class WeightsOptionTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @TempDir
    Path dir;

    /** The weights an ONNX file holds, as the zoo model names them. */
    private static Weights weightsIn(Path onnx, Model model) {
        return WeightImport.from(onnx, model, false).weights();
    }

    @Test
    void pretrainedWorksWhereverWeightsAreTaken() {
        Path file = dir.resolve("x.onnx");
        ZooCommandTest.Result export = zoo("export", "fashion-cnn", "--weights", "pretrained", "-o", file.toString());
        assertEquals(0, export.exit(), export.err());
        assertTrue(export.out().contains("its pretrained weights"), export.out());
        Model fashion = ZOO.build("fashion-cnn");
        assertTrue(weightsIn(file, fashion).bitEquals(ZOO.pretrained("fashion-cnn").bind(fashion.graph())), "the file holds the shipped weights");

        ZooCommandTest.Result run = zoo("run", "lenet5", "--weights", "pretrained", "--threads", "1");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().startsWith("lenet5 with its pretrained weights"), run.out());

        ZooCommandTest.Result bench = zoo("bench", "lenet5", "--weights", "pretrained", "--iters", "1", "--warmup", "0", "--threads", "1",
                "--format", "csv");
        assertEquals(0, bench.exit(), bench.err());

        String none = zoo("export", "lenet5-modern", "--weights", "pretrained", "-o", dir.resolve("y.onnx").toString()).err().strip();
        assertTrue(none.startsWith("zoo: the zoo ships no pretrained weights for lenet5-modern; it has them for ") && none.contains("lenet5"), none);
        assertFalse(Files.exists(dir.resolve("y.onnx")));
    }

    @Test
    void anOnnxFileGivesItsInitializersAsWeights() {
        Path seeded = dir.resolve("seed7.onnx");
        assertEquals(0, zoo("export", "lenet5-modern", "--seed", "7", "-o", seeded.toString()).exit());
        Path again = dir.resolve("again.onnx");
        ZooCommandTest.Result r = zoo("export", "lenet5-modern", "--weights", seeded.toString(), "-o", again.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("weights from " + seeded), r.out());
        Model model = ZOO.build("lenet5-modern");
        Weights seven = Weights.initial(model.graph(), 7);
        assertTrue(weightsIn(again, model).bitEquals(seven), "seed 7's weights, taken from the ONNX file");
        assertFalse(weightsIn(again, model).bitEquals(Weights.initial(model.graph(), 0)));

        ZooCommandTest.Result run = zoo("run", "lenet5-modern", "--weights", seeded.toString(), "--threads", "1");
        assertEquals(0, run.exit(), run.err());
    }

    @Test
    void unusedTensorsAreListedAndUnreadableFilesNamed() throws IOException {
        Model model = ZOO.build("lenet5-modern", ModelConfig.defaults());
        Path file = dir.resolve("extra.safetensors");
        Safetensors.write(file, Weights.initial(model.graph(), 1).with("extra.weight", Tensor.zeros(Shape.of(2))), Map.of());
        ZooCommandTest.Result r = zoo("export", "lenet5-modern", "--weights", file.toString(), "-o", dir.resolve("e.onnx").toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("zoo: 1 tensor(s) in " + file + " are not used by lenet5-modern: extra.weight", r.err().strip());

        Path text = dir.resolve("notes.bin");
        Files.writeString(text, "not weights");
        assertEquals("zoo: " + text + " is in none of the weight formats the zoo reads (safetensors, PyTorch, Keras HDF5, ONNX)",
                zoo("run", "lenet5-modern", "--weights", text.toString()).err().strip());
        assertEquals("zoo: weights file " + dir.resolve("absent.safetensors") + " does not exist",
                zoo("eval", "lenet5-modern", "--weights", dir.resolve("absent.safetensors").toString(), "--limit", "1").err().strip());
    }

    @Test
    void evalTakesACheckpointOrWeightsNotBoth() {
        ZooCommandTest.Result neither = zoo("eval", "lenet5-modern");
        assertEquals(2, neither.exit());
        assertTrue(neither.err().contains("give --checkpoint=DIR|FILE or --weights=FILE|pretrained"), neither.err());
        ZooCommandTest.Result both = zoo("eval", "lenet5-modern", "--checkpoint", dir.toString(), "--weights", "pretrained");
        assertEquals(2, both.exit());
        assertTrue(both.err().contains("--checkpoint and --weights are mutually exclusive"), both.err());
        assertTrue(zoo("predict", "lenet5", dir.toString()).err().contains("Missing required option: '--weights=FILE|pretrained'"));
    }
}
