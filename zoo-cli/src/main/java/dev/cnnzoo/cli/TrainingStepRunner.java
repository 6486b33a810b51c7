package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.TrainingSpec;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.weights.Weights;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;
import java.util.SplittableRandom;

/**
 * One training step per {@link #run()}, as {@code zoo train} takes it: the model's training
 * artifacts in a {@link StepEngine} (weights and optimizer state native between steps), a batch
 * crossing into ONNX Runtime and the loss and logits coming back. The batch is random and fixed.
 */
final class TrainingStepRunner implements Runnable, AutoCloseable {
    private final StepEngine engine;
    private final Tensor images;
    private final long[] labels;
    private final double learningRate;

    /**
     * @param weights the starting weights, built here (after the bench resets its memory peak) and
     *                let go once the engine holds them natively: like a training run, the step then
     *                runs without a Java copy of the weights, which a full collection returns to the
     *                system before the timed steps (VGG-16's 553 MB)
     * @param profile ONNX Runtime's profile file prefix, or null for none
     */
    TrainingStepRunner(Model model, Supplier<Weights> weights, Optimizer optimizer, double learningRate, int batch, RuntimeOptions runtime,
            StepEngine.Mode mode, TrainingGraph.Activations activations, Path profile) {
        TrainingArtifacts artifacts = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), optimizer).activations(activations));
        this.engine = new StepEngine(artifacts, Checkpoint.start(artifacts.training(), optimizer, weights.get(), Map.of()), runtime, mode,
                model.config().seed(), profile);
        System.gc();
        this.learningRate = learningRate;
        int[] size = model.config().inputSize();
        Shape shape = Shape.of(batch, model.config().inputChannels(), size[0], size[1]);
        SplittableRandom random = new SplittableRandom(0);
        float[] pixels = new float[Math.toIntExact(shape.elements())];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();    // what normalised images look like
        }
        this.images = Tensor.of(shape, pixels);
        this.labels = new long[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = random.nextInt(model.config().classes());
        }
    }

    @Override
    public void run() {
        engine.step(images, labels, learningRate);
    }

    /** Ends the profile of an engine opened with one and returns its file. */
    Path endProfiling() {
        return engine.endProfiling();
    }

    @Override
    public void close() {
        engine.close();
    }
}
