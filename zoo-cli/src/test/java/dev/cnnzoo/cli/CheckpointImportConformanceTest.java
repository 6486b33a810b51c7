package dev.cnnzoo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.runtime.interchange.WeightImport;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.Conformance;
import dev.cnnzoo.testkit.Python;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Weights as PyTorch and Keras users have them, read in Java: {@code torch.save} files of four
 * torchvision networks give torchvision's logits; a pickle that would run a command is refused
 * without running it; damaged files get one line and no output; Keras {@code save_weights} files
 * written by h5py give the logits of the same weights loaded from safetensors. One Python process
 * ({@code checkpoints.py}) writes every file.
 */
@Conformance
class CheckpointImportConformanceTest {
    @TempDir
    static Path dir;

    private static final ModelZoo ZOO = ModelZoo.load();
    private static Weights batches;
    private static Path marker;

    @BeforeAll
    static void write() {
        marker = dir.resolve("command-ran");
        Python.runResource(CheckpointImportConformanceTest.class, "checkpoints.py", dir.toString(), marker.toString());
        batches = Safetensors.read(dir.resolve("batches.safetensors"));
    }

    private static Model model(String id, int size, boolean auxiliary) {
        ModelConfig.Builder config = ModelConfig.builder().inputSize(size, size);
        return ZOO.build(id, (auxiliary ? config : config.auxiliary(false)).build());
    }

    private static float[] logits(Model model, Weights weights, Tensor input) {
        try (InferenceSession s = ZooSessions.open(model, weights, RuntimeOptions.cpu(2))) {
            return s.run(input).floats();
        }
    }

    @ParameterizedTest(name = "{0} from {1}")
    @CsvSource({"resnet50, resnet50.pth, 64, true, ''", "vgg16-bn, vgg16_bn.pth, 32, true, state dict found under 'state_dict'",
            "googlenet-bn, googlenet.pth, 64, true, state dict found under 'model'",
            "inception-v3, inception_v3.pth, 107, false, tensors stored as HalfStorage, converted to float32"})
    void torchSaveOfATorchvisionNetworkGivesTorchvisionsLogits(String id, String file, int size, boolean auxiliary, String note) {
        Model model = model(id, size, auxiliary);
        WeightImport.Report r = WeightImport.from(dir.resolve(file), model, false);
        assertEquals(model.graph().parameters().size(), r.count(WeightImport.How.NAME), "every tensor by name");
        assertTrue(note.isEmpty() ? r.notes().isEmpty() : r.notes().stream().anyMatch(n -> n.contains(note)), r.notes().toString());
        // inception-v3 is built without its auxiliary classifier here (107×107 is too small for it): AuxLogits.* are left over.
        assertTrue(r.unused().stream().allMatch(u -> u.startsWith("AuxLogits.")), r.unused().toString());
        Close.assertRelative(id + " imported from " + file + " vs torchvision", batches.get(id + ".logits").floats(),
                logits(model, r.weights(), batches.get(id + ".input")), 1e-4);
    }

    @Test
    void zooImportWritesTheCheckpointAsSafetensors() {
        Path out = dir.resolve("resnet50-imported.safetensors");
        Path in = dir.resolve("resnet50.pth");
        ZooCommandTest.Result r = ZooCommandTest.zoo("import", "resnet50", in.toString(), "-o", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("resnet50: 267 tensors from " + in + ": 267 by name\n"), r.out());
        assertTrue(r.out().contains("(53 num_batches_tracked counters left out"), r.out());
        Model model = model("resnet50", 64, true);
        Close.assertRelative("resnet50 through zoo import", batches.get("resnet50.logits").floats(),
                logits(model, Safetensors.read(out).bind(model.graph()), batches.get("resnet50.input")), 1e-4);
    }

    @Test
    void weightsOptionTakesACheckpoint() throws IOException {
        Path onnx = dir.resolve("resnet50-64.onnx");
        ZooCommandTest.Result r = ZooCommandTest.zoo("export", "resnet50", "--input", "3x64x64", "--weights", dir.resolve("resnet50.pth").toString(),
                "-o", onnx.toString());
        assertEquals(0, r.exit(), r.err());
        try (InferenceSession s = InferenceSession.open(onnx, RuntimeOptions.cpu(2))) {
            Close.assertRelative("resnet50 exported with --weights resnet50.pth", batches.get("resnet50.logits").floats(),
                    s.run(batches.get("resnet50.input")).floats(), 1e-4);
        }
        Path image = dir.resolve("grey.png");
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(80, 80, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", image.toFile());
        ZooCommandTest.Result predict = ZooCommandTest.zoo("predict", "resnet50", "--weights", dir.resolve("googlenet.pth").toString(),
                image.toString());
        assertNotEquals(0, predict.exit(), "googlenet's checkpoint is not resnet50's");
        assertTrue(predict.err().startsWith("zoo: tensor 'fc.weight' is 1000×1024 in googlenet.pth but resnet50's 'fc.weight' is 1000×2048"),
                predict.err());
        predict = ZooCommandTest.zoo("predict", "resnet50", "--weights", dir.resolve("resnet50.pth").toString(), image.toString(), "--top", "2");
        assertEquals(0, predict.exit(), predict.err());
        assertTrue(predict.out().contains("grey.png"), predict.out());
    }

    @Test
    void aPickleThatWouldRunACommandIsRefusedByNameAndNothingRuns() {
        Path out = dir.resolve("evil.safetensors");
        ZooCommandTest.Result r = ZooCommandTest.zoo("import", "resnet50", dir.resolve("evil.pth").toString(), "-o", out.toString());
        assertNotEquals(0, r.exit(), r.out());
        // os.system pickles under its defining module's name on Linux, posix.system.
        assertTrue(r.err().startsWith("zoo: evil.pth refers to the Python global 'posix.system', which a weights-only load refuses"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(Files.exists(marker), "the command in the pickle ran");
        assertFalse(Files.exists(out));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "truncated.pth | vgg16-bn | truncated.pth is not a complete zip archive (truncated or damaged",
        "short-storage.pth | resnet50 | tensor 'conv1.weight' in short-storage.pth (shape [64, 3, 7, 7], strides [147, 49, 7, 1], offset 0) "
                + "needs 37632 bytes of storage data/0, which holds only 18816",
        "bad-strides.pth | resnet50 | tensor 'fc.weight' in bad-strides.pth (shape [4, 4], strides [100, 1], offset 0) reaches element 304 "
                + "of its storage data/0, which holds 16",
        "resnet50.pth | vgg16-bn | resnet50.pth has nothing for 84 of vgg16-bn's 84 tensors: features.0.weight (64×3×3×3)",
        "legacy.pth | resnet50 | legacy.pth is in PyTorch's legacy (pre-1.6) format, which the zoo does not read; re-save it with PyTorch ≥ 1.6 "
                + "as torch.save(torch.load(\"legacy.pth\"), \"legacy-zip.pth\", _use_new_zipfile_serialization=True)"})
    void aDamagedOrForeignCheckpointGetsOneLineAndNoOutput(String file, String id, String message) throws IOException {
        if (file.equals("truncated.pth") && !Files.exists(dir.resolve(file))) {
            byte[] whole = Files.readAllBytes(dir.resolve("vgg16_bn.pth"));
            Files.write(dir.resolve(file), Arrays.copyOf(whole, whole.length / 2));
        }
        Path out = dir.resolve(file + ".safetensors");
        ZooCommandTest.Result r = ZooCommandTest.zoo("import", id, dir.resolve(file).toString(), "-o", out.toString());
        assertNotEquals(0, r.exit());
        assertTrue(r.err().startsWith("zoo: " + message), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(Files.exists(out));
        try (var left = Files.list(dir)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "a temporary file was left");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"xception, 96, 0", "vgg16, 64, 3"})
    void aKerasSaveWeightsFileGivesTheLogitsOfTheSameWeightsFromSafetensors(String id, int size, int denseByOrder) {
        Model model = model(id, size, false);
        WeightImport.Report r = WeightImport.from(dir.resolve(id + ".h5"), model, false);
        assertTrue(r.unused().isEmpty(), r.unused().toString());
        if (id.equals("xception")) {
            // Keras leaves the four projection shortcuts unnamed: conv2d, conv2d_1, ... match by order.
            assertEquals(4 * 5, r.count(WeightImport.How.ORDER));
            assertEquals("conv2d_3/kernel:0", r.sources().get("block13_shortcut.weight"));
            assertEquals("block2_sepconv1/depthwise_kernel:0", r.sources().get("block2_sepconv1.depthwise.weight"));
        } else {
            assertEquals(model.graph().parameters().size(), r.count(WeightImport.How.ORDER));
            assertEquals("fc1/kernel:0", r.sources().get("classifier.0.weight"));
            assertTrue(r.notes().stream().anyMatch(n -> n.startsWith("dense layer 'fc1': rows reordered")), r.notes().toString());
        }
        Tensor input = TestTensors.images(2, 3, size, size, 17);
        Weights reference = Safetensors.read(dir.resolve(id + ".safetensors")).bind(model.graph());
        Close.assertRelative(id + " from .h5 vs from safetensors", logits(model, reference, input), logits(model, r.weights(), input), 1e-4);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"resnet50-keras.h5, resnet50, 64, true, resnet50", "inception_v3-keras.h5, inception-v3, 107, false, inception-v3-keras"})
    void kerasNamedTorchvisionWeightsGiveTorchvisionsLogits(String file, String id, int size, boolean auxiliary, String expected) {
        Model model = model(id, size, auxiliary);
        WeightImport.Report r = WeightImport.from(dir.resolve(file), model, false);
        assertTrue(r.unused().isEmpty(), r.unused().toString());
        if (id.equals("resnet50")) {
            assertEquals("conv2_block1_0_conv/kernel:0", r.sources().get("layer1.0.downsample.0.weight"));
            assertEquals(model.graph().parameters().size() - 2, r.count(WeightImport.How.NAME), "all but the classifier by name");
            assertTrue(r.notes().contains("convolution biases folded into the running means of the batch norms after them (the zoo's "
                    + "convolutions have none)"), r.notes().toString());
        } else {
            assertEquals(model.graph().parameters().size(), r.count(WeightImport.How.ORDER));
            assertEquals("conv2d_93/kernel:0", r.sources().get("Mixed_7c.branch_pool.conv.weight"));
        }
        Close.assertRelative(id + " from " + file + " vs torchvision", batches.get(expected + ".logits").floats(),
                logits(model, r.weights(), batches.get(id + ".input")), 1e-4);
    }

    @Test
    void aWholeKerasModelsOwnBatchNormEpsilonIsHonoured() {
        Model model = model("xception", 96, false);
        Path file = dir.resolve("xception-model.h5");
        ZooCommandTest.Result cli = ZooCommandTest.zoo("import", "xception", file.toString(), "-o", dir.resolve("xm.safetensors").toString());
        assertEquals(0, cli.exit(), cli.err());
        assertTrue(cli.out().contains("batch norm 'block1_conv1_bn' used ε = 0.002, the zoo's 'block1_conv1_bn' uses 0.001"), cli.out());
        Tensor input = TestTensors.images(1, 3, 96, 96, 23);
        Weights reference = Safetensors.read(dir.resolve("xception-model.safetensors")).bind(model.graph());
        Close.assertRelative("xception whole-model file vs its weights with ε folded into the variance", logits(model, reference, input),
                logits(model, Safetensors.read(dir.resolve("xm.safetensors")).bind(model.graph()), input), 1e-4);
        assertEquals(List.of(), Safetensors.read(dir.resolve("xm.safetensors")).unused(model.graph()));
    }
}
