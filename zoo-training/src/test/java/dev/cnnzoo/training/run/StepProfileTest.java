package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingSpec;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StepProfileTest {
    @TempDir
    Path dir;

    /** A profiled engine's steps break down into the training graph's phases and the network's layers. */
    @Test
    void aProfiledStepSplitsIntoPhasesAndLayers() {
        Model model = ModelZoo.load().build("lenet5-modern");
        Optimizer opt = Optimizer.adam();
        TrainingArtifacts a = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), opt));
        Checkpoint start = Checkpoint.start(a.training(), opt, Weights.initial(model.graph(), 1), Map.of());
        Tensor images = TestTensors.images(4, 1, 28, 28, 2);
        long[] labels = new SplittableRandom(3).longs(4, 0, 10).toArray();
        Path file;
        try (StepEngine e = new StepEngine(a, start, RuntimeOptions.cpu(1), StepEngine.Mode.FUSED, 1, dir.resolve("lenet"))) {
            for (int i = 0; i < 3; i++) {
                e.step(images, labels, 0.01);
            }
            file = e.endProfiling();
        }
        assertTrue(Files.isRegularFile(file) && file.startsWith(dir), file + " written where asked");
        StepProfile p = StepProfile.read(file);
        assertEquals(3, p.runs());
        assertEquals(java.util.Set.of("forward", "backward", "optimizer", "loss"), p.byPhaseAndOperator().keySet());
        assertTrue(p.byLayer().containsKey("conv1 forward") && p.byLayer().containsKey("conv2 backward"), p.byLayer().keySet().toString());
        assertTrue(p.kernelMillis() > 0 && p.runMillis() > 0);
        assertEquals(p.kernelMillis(), p.nodes().stream().mapToDouble(StepProfile.Node::millis).sum(), 1e-9);
        assertTrue(p.nodes().stream().anyMatch(n -> n.layer().equals("optimizer")), "the optimizer's nodes are one group");
        assertTrue(p.report("lenet5-modern", 5).contains("costliest layers"));
    }
}
