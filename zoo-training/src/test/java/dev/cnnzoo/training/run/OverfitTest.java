package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
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
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every network in the zoo, trained for 30 steps on one small fixed random batch (4 images, 10
 * random labels), must at least halve its training loss: the whole chain (training-mode forward,
 * every gradient rule it uses, the optimizer) has to work for a network to memorise a batch.
 * Auxiliary heads are on where a network has them and batch norm runs on batch statistics. Each
 * network is built at the smallest input its poolings accept (from 32 up) to keep the run short.
 */
@org.junit.jupiter.api.Tag("slow")
class OverfitTest {
    private static final ModelZoo ZOO = ModelZoo.load();
    private static final int[] SIZES = {32, 64, 96, 128, 160, 224};

    /** Every model, or those matching the glob in the system property {@code overfit.models} (for timing a family). */
    static Stream<String> everyModel() {
        String only = System.getProperty("overfit.models");
        return (only == null || only.isBlank() ? ZOO.list() : ZOO.list(only)).stream().map(ModelInfo::id);
    }

    @ParameterizedTest
    @MethodSource("everyModel")
    void thirtyStepsHalveTheLossOnAFixedBatch(String id) {
        long started = System.nanoTime();
        Model model = smallest(id);
        Optimizer opt = Optimizer.adam();
        TrainingArtifacts a = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), opt));
        Weights w = Weights.initial(model.graph(), 1);
        Checkpoint start = Checkpoint.start(a.training(), opt, w, Map.of());
        int[] size = model.config().inputSize();
        Tensor images = TestTensors.images(4, model.config().inputChannels(), size[0], size[1], 2);
        long[] labels = new SplittableRandom(3).longs(4, 0, 10).toArray();
        try (StepEngine e = new StepEngine(a, start, RuntimeOptions.cpu(2), StepEngine.Mode.FUSED, 1)) {
            double first = e.step(images, labels, 1e-3).loss();
            double last = first;
            for (int i = 1; i < 30; i++) {
                last = e.step(images, labels, 1e-3).loss();
            }
            System.out.printf("overfit %-22s %4d×%-4d loss %.3f → %.3f in %.1f s%n", id, size[0], size[1], first, last,
                    (System.nanoTime() - started) / 1e9);
            assertTrue(Double.isFinite(first) && last <= first / 2,
                    id + " at " + size[0] + "×" + size[1] + ": loss " + first + " → " + last + " after 30 steps");
        }
    }

    /** The model with 10 classes at the smallest of {@link #SIZES} it accepts (LeNet's 28×28 stays). */
    static Model smallest(String id) {
        ModelInfo info = ZOO.find(id);
        if (info.inputShape()[1] <= 32) {
            return ZOO.build(id, ModelConfig.builder().classes(10).build());
        }
        for (int s : SIZES) {
            try {
                return ZOO.build(id, ModelConfig.builder().classes(10).inputSize(s, s).build());
            } catch (InvalidConfigException tooSmall) {
                // try the next size
            }
        }
        return ZOO.build(id, ModelConfig.builder().classes(10).build());
    }
}
