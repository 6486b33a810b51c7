package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.InvalidConfigException;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Parameter;
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
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every network in the zoo, trained for 30 steps on one small fixed random batch (4 images, 10
 * random labels), must at least halve its training loss: the whole chain (training-mode forward,
 * every gradient rule it uses, the optimizer) has to work for a network to memorise a batch.
 * Auxiliary heads are on where a network has them (their losses weighted 0.3) and batch norm runs
 * on batch statistics. Each network is built at the smallest input its poolings accept (from 32
 * up) to keep the run short, with dropout off: memorising is measured without a fresh random mask
 * per step (the dropout rule has finite-difference and fused-versus-separate tests of its own).
 */
@org.junit.jupiter.api.Tag("slow")
class OverfitTest {
    private static final ModelZoo ZOO = ModelZoo.load();
    private static final int[] SIZES = {32, 64, 96, 128, 160, 224};
    /**
     * Networks whose papers draw every weight from N(0, 0.01²): through their eight layers the
     * differences between inputs fade so far that, from those weights, 30 steps only learn the
     * label frequencies (the loss stalls at ln 4, the entropy of four labels, with Adam at 1e-4 to
     * 1e-3 and with the papers' SGD at 0.01). The papers trained for 90 epochs. These start from
     * He-normal weights and zero biases instead; the architecture and every rule are the same.
     */
    private static final Set<String> SMALL_GAUSSIAN_INIT = Set.of("alexnet", "zfnet");

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
        Weights w = SMALL_GAUSSIAN_INIT.contains(id) ? heNormal(model.graph(), 1) : Weights.initial(model.graph(), 1);
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

    /** The model with 10 classes and no dropout at the smallest of {@link #SIZES} it accepts (LeNet's 28×28 stays). */
    static Model smallest(String id) {
        ModelInfo info = ZOO.find(id);
        ModelConfig.Builder config = ModelConfig.builder().classes(10).dropout(0);
        if (info.inputShape()[1] <= 32) {
            return ZOO.build(id, config.build());
        }
        for (int s : SIZES) {
            try {
                return ZOO.build(id, config.inputSize(s, s).build());
            } catch (InvalidConfigException tooSmall) {
                // try the next size
            }
        }
        return ZOO.build(id, config.inputSize(info.inputShape()[1], info.inputShape()[2]).build());
    }

    /** Every weight of rank two or more from N(0, 2/fan-in), biases zero, the rest as initialised. */
    static Weights heNormal(Graph graph, long seed) {
        Weights w = Weights.initial(graph, seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (Parameter p : graph.parameters().values()) {
            if (p.trainable() && p.shape().rank() >= 2) {
                w = w.with(p.name(), Tensor.of(p.shape(), Init.heNormal(false).sample(p.shape(), random)));
            } else if (p.trainable() && p.name().endsWith(".bias")) {
                w = w.with(p.name(), Tensor.zeros(p.shape()));
            }
        }
        return w;
    }
}
