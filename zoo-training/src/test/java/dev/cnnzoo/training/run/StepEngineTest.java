package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingSpec;
import dev.cnnzoo.weights.Weights;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StepEngineTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    private static Map<String, Tensor> train(String id, StepEngine.Mode mode, int steps, Optimizer opt, long seed) {
        Model model = ZOO.build(id);
        TrainingArtifacts a = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), opt));
        Checkpoint start = Checkpoint.start(a.training(), opt, Weights.initial(model.graph(), seed), Map.of());
        Tensor images = TestTensors.images(8, 1, 28, 28, 3);
        long[] labels = new SplittableRandom(4).longs(8, 0, 10).toArray();
        try (StepEngine e = new StepEngine(a, start, RuntimeOptions.cpu(2), mode, seed)) {
            for (int i = 0; i < steps; i++) {
                e.step(images, labels, 0.01);
            }
            assertEquals(steps, e.stepsTaken());
            return e.snapshot();
        }
    }

    @Test
    void fusedAndSeparateArtifactsGiveTheSameWeights() {
        Map<String, Tensor> fused = train("fashion-cnn", StepEngine.Mode.FUSED, 3, Optimizer.nadam(), 1);
        Map<String, Tensor> separate = train("fashion-cnn", StepEngine.Mode.SEPARATE, 3, Optimizer.nadam(), 1);
        assertEquals(fused.keySet(), separate.keySet());
        for (String name : fused.keySet()) {
            Close.assertRelative(name, separate.get(name).floats(), fused.get(name).floats(), 1e-5);
        }
    }

    @Test
    void theSameSeedGivesTheSameWeights() {
        Map<String, Tensor> a = train("fashion-cnn", StepEngine.Mode.FUSED, 4, Optimizer.adam(), 9);
        Map<String, Tensor> b = train("fashion-cnn", StepEngine.Mode.FUSED, 4, Optimizer.adam(), 9);
        for (String name : a.keySet()) {
            assertTrue(a.get(name).bitEquals(b.get(name)), name + " differs between two runs with the same seed");
        }
        Map<String, Tensor> c = train("fashion-cnn", StepEngine.Mode.FUSED, 4, Optimizer.adam(), 10);
        assertTrue(a.keySet().stream().anyMatch(n -> !a.get(n).bitEquals(c.get(n))), "another seed gives other weights");
    }
}
