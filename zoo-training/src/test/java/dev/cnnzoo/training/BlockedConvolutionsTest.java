package dev.cnnzoo.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The training model on ONNX Runtime's blocked convolution kernels computes what the standard graph computes. */
class BlockedConvolutionsTest {

    /** The block is the CPU's vector width in floats: 16 with AVX-512, 8 with AVX2 (x86 Linux, where /proc/cpuinfo says). */
    @Test
    void theProbeFindsTheBlockOfThisCpu() throws Exception {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        String arch = System.getProperty("os.arch");
        Assumptions.assumeTrue(Files.isReadable(cpuinfo) && (arch.equals("amd64") || arch.equals("x86_64")), "an x86 Linux CPU");
        String flags = Files.readAllLines(cpuinfo).stream().filter(l -> l.startsWith("flags")).findFirst().orElse("");
        List<String> features = List.of(flags.replaceFirst("^flags\\s*:\\s*", "").split("\\s+"));
        int expected = features.contains("avx512f") ? 16 : features.contains("avx2") ? 8 : 0;
        Assumptions.assumeTrue(expected > 0, "a CPU with AVX2 or AVX-512");
        assertEquals(expected, BlockedConvolutions.blockSize());
    }

    /**
     * ResNet-18 (at 32×32, batch 4): every convolution but the 3-map stem (and its weight gradient's)
     * moves to the blocked kernels, forward and, where the stride is 1, for the input gradient; loss and every gradient equal the
     * standard graph's within float32 summation order: 1e-3 of each gradient's norm (the stem's, at the
     * end of 20 batch norms over as few as four values per map, differs by 1.1e-4; a misplaced block
     * would differ by the norm itself).
     */
    @Test
    void blockedTrainingModelGivesTheStandardGradients() throws Exception {
        Assumptions.assumeTrue(BlockedConvolutions.available(), "ONNX Runtime has blocked kernels on this CPU");
        Model model = ModelZoo.load().build("resnet18", ModelConfig.builder().inputSize(32, 32).build());
        Optimizer opt = Optimizer.nadam();
        TrainingArtifacts a = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), opt));
        byte[] standard = a.trainingModel();
        byte[] blocked = BlockedConvolutions.forThisCpu(standard);

        ModelProto before = ModelProto.parseFrom(standard);
        ModelProto after = ModelProto.parseFrom(blocked);
        long convs = count(before, "", "Conv");
        long moved = count(after, BlockedConvolutions.DOMAIN, "Conv");
        assertEquals(moved, after.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("ReorderInput")
                && n.getName().endsWith("/nchwc/input")).count(), "one reorder of its input per blocked convolution");
        assertEquals(moved, count(after, BlockedConvolutions.DOMAIN, "ReorderOutput"));
        assertEquals(convs, moved + count(after, "", "Conv"), "each Conv moved or left");
        // forward: 20 convolutions of which the 3-map stem stays; input gradients as convolutions: the 13 of stride 1
        // (four in layer1, three in each later stage; the strided ones take ConvTranspose)
        assertEquals(19 + 13, moved, "the blocked convolutions of ResNet-18");
        // the stem keeps its standard Conv, and so does its weight gradient (a convolution with the batch as its maps);
        // the 16 3×3 layers' weight gradients' columns are written by 3-D convolutions with constant kernels
        Set<String> constants = after.getGraph().getInitializerList().stream().map(t -> t.getName()).collect(Collectors.toSet());
        long columns = after.getGraph().getNodeList().stream()
                .filter(n -> n.getDomain().isEmpty() && n.getOpType().equals("Conv") && constants.contains(n.getInput(1))).count();
        assertEquals(16, columns, "the 3×3 layers' im2col columns");
        assertEquals(2, count(after, "", "Conv") - columns, "the stem and its weight gradient keep the standard Conv");

        Map<String, Tensor> feeds = new HashMap<>(Checkpoint.start(a.training(), opt, Weights.initial(model.graph(), 3), Map.of()).tensors());
        feeds.keySet().removeAll(opt.globalStateNames());      // the optimizer's, not the training model's
        SplittableRandom r = new SplittableRandom(11);
        float[] pixels = new float[4 * 3 * 32 * 32];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) r.nextGaussian();
        }
        feeds.put("input", Tensor.of(Shape.of(4, 3, 32, 32), pixels));
        feeds.put(TrainingGraph.LABELS, Tensor.ofLongs(Shape.of(4), r.longs(4, 0, 1000).toArray()));
        Map<String, Tensor> expected;
        Map<String, Tensor> actual;
        try (InferenceSession s = InferenceSession.open(standard, RuntimeOptions.cpu(2))) {
            expected = s.run(feeds);
        }
        try (InferenceSession s = InferenceSession.open(blocked, RuntimeOptions.cpu(2))) {
            actual = s.run(feeds);
        }
        assertEquals(expected.keySet(), actual.keySet());
        int gradients = 0;
        for (String name : expected.keySet()) {
            float[] e = expected.get(name).floats();
            float[] g = actual.get(name).floats();
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < e.length; i++) {
                diff += (e[i] - g[i]) * (double) (e[i] - g[i]);
                norm += e[i] * (double) e[i];
            }
            assertTrue(Math.sqrt(diff) <= 1e-3 * Math.sqrt(norm) + 1e-7,
                    name + ": |blocked − standard| = " + Math.sqrt(diff) + " against |standard| = " + Math.sqrt(norm));
            gradients += name.endsWith(TrainingGraph.GRAD) ? 1 : 0;
        }
        assertTrue(gradients >= 60, "ResNet-18's weight gradients were compared: " + gradients);
    }

    private static long count(ModelProto m, String domain, String op) {
        return m.getGraph().getNodeList().stream().filter(n -> n.getDomain().equals(domain) && n.getOpType().equals(op)).count();
    }

}
