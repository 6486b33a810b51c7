package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.OptimizerGraph;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.TrainingGraph;
import dev.cnnzoo.training.TrainingSpec;
import dev.cnnzoo.weights.Weights;
import java.util.HashMap;
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

    /**
     * Two replicas, each stepping on half of every batch with their gradients averaged, take the
     * steps one engine takes on the whole batches: the same dropout masks (the global batch's
     * rows), the mean of two half-batch means as the whole batch's mean.
     */
    @Test
    void twoShardsWithCombinedGradientsStepAsTheWholeBatch() throws Exception {
        Model model = ZOO.build("fashion-cnn");
        Optimizer opt = Optimizer.sgd(0.9, false);
        TrainingArtifacts a = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), opt));
        Checkpoint start = Checkpoint.start(a.training(), opt, Weights.initial(model.graph(), 2), Map.of());
        Tensor images = TestTensors.images(8, 1, 28, 28, 5);
        long[] labels = new SplittableRandom(6).longs(8, 0, 10).toArray();
        Map<String, Tensor> whole;
        try (StepEngine e = new StepEngine(a, start, RuntimeOptions.cpu(1), StepEngine.Mode.FUSED, 3)) {
            for (int i = 0; i < 3; i++) {
                e.step(images, labels, 0.05);
            }
            whole = e.snapshot();
        }
        java.util.concurrent.Exchanger<Map<String, Tensor>> exchanger = new java.util.concurrent.Exchanger<>();
        StepEngine.Combiner mean = local -> {
            try {
                Map<String, Tensor> other = exchanger.exchange(local);
                Map<String, Tensor> out = new java.util.LinkedHashMap<>();
                local.forEach((name, t) -> {
                    float[] x = t.floats();
                    float[] y = other.get(name).floats();
                    float[] m = new float[x.length];
                    for (int i = 0; i < m.length; i++) {
                        m[i] = (x[i] + y[i]) * 0.5f;
                    }
                    out.put(name, Tensor.of(t.shape(), m));
                });
                return out;
            } catch (InterruptedException ex) {
                throw new IllegalStateException(ex);
            }
        };
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.List<java.util.concurrent.Future<Map<String, Tensor>>> halves = new java.util.ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int first = 4 * r;
                halves.add(pool.submit(() -> {
                    float[] px = java.util.Arrays.copyOfRange(images.floats(), first * 784, (first + 4) * 784);
                    Tensor half = Tensor.of(dev.cnnzoo.graph.Shape.of(4, 1, 28, 28), px);
                    long[] l = java.util.Arrays.copyOfRange(labels, first, first + 4);
                    try (StepEngine e = new StepEngine(a, start, RuntimeOptions.cpu(1), StepEngine.Mode.SEPARATE, 3)) {
                        for (int i = 0; i < 3; i++) {
                            e.step(half, l, 0.05, new StepEngine.Shard(first, 8), mean);
                        }
                        return e.snapshot();
                    }
                }));
            }
            Map<String, Tensor> r0 = halves.get(0).get();
            Map<String, Tensor> r1 = halves.get(1).get();
            for (String name : whole.keySet()) {
                assertTrue(r0.get(name).bitEquals(r1.get(name)), name + " differs between the replicas");
                Close.assertRelative(name, r0.get(name).floats(), whole.get(name).floats(), 1e-5);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The engine writes the weights and the optimizer's moments in place, into the tensors it fed; a
     * plain run of the same step model, every output a new tensor fed back by the caller, ends with
     * the same bits. (Before each update waited for the layer's input gradient, lenet5-modern's
     * conv2 weights were overwritten before the input gradient read them.) ResNet-18 adds batch
     * norms, strided convolutions (transposed for their input gradient) and a max pool.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"lenet5-modern", "resnet18"})
    void inPlaceUpdatesEndWhereAPlainRunOfTheStepModelEnds(String id) {
        Model model = id.equals("resnet18") ? ZOO.build(id, dev.cnnzoo.api.ModelConfig.builder().inputSize(32, 32).build()) : ZOO.build(id);
        Optimizer opt = Optimizer.nadam();
        TrainingArtifacts a = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), opt));
        Checkpoint start = Checkpoint.start(a.training(), opt, Weights.initial(model.graph(), 5), Map.of());
        int[] size = model.config().inputSize();
        Tensor images = TestTensors.images(8, model.config().inputChannels(), size[0], size[1], 6);
        long[] labels = new SplittableRandom(7).longs(8, 0, 10).toArray();
        Map<String, Tensor> state = new HashMap<>(start.tensors());
        for (String p : a.training().trainable()) {           // a run starts its moments at zero (absent from the start checkpoint)
            for (String s : opt.stateNames()) {
                state.put(p + "." + s, Tensor.zeros(start.tensors().get(p).shape()));
            }
        }
        try (StepEngine engine = new StepEngine(a, start, RuntimeOptions.cpu(1), StepEngine.Mode.FUSED, 5);
                InferenceSession plain = InferenceSession.open(dev.cnnzoo.training.BlockedConvolutions.forThisCpu(a.stepModel()),
                        RuntimeOptions.cpu(1))) {
            for (long t = 1; t <= 3; t++) {
                engine.step(images, labels, 0.01);
                Map<String, Tensor> feeds = new HashMap<>(state);
                feeds.put("input", images);
                feeds.put(TrainingGraph.LABELS, Tensor.ofLongs(Shape.of(labels.length), labels));
                feeds.put(OptimizerGraph.LEARNING_RATE, Tensor.scalar(0.01f));
                feeds.put(OptimizerGraph.STEP, Tensor.ofLongs(Shape.scalar(), new long[] {t}));
                Map<String, Tensor> out = plain.run(feeds);
                state.replaceAll((name, old) -> out.get(name + TrainingGraph.UPDATED));
            }
            Map<String, Tensor> inPlace = engine.snapshot();
            assertEquals(state.keySet(), inPlace.keySet());
            assertTrue(state.keySet().stream().anyMatch(n -> n.endsWith(".exp_avg_sq")), "NAdam's second moments are carried");
            for (String name : state.keySet()) {
                assertTrue(state.get(name).bitEquals(inPlace.get(name)), name + " differs from the plain run's");
            }
        }
    }

    /**
     * Loading another engine's weights and momenta (as replicas do when they average) carries on
     * from them exactly, although the step writes those tensors in place.
     */
    @Test
    void replacedStateStepsOnAsTheEngineItCameFrom() {
        Model model = ZOO.build("lenet5-modern");
        Optimizer opt = Optimizer.sgd(0.9, false);
        TrainingArtifacts a = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), opt));
        Checkpoint start = Checkpoint.start(a.training(), opt, Weights.initial(model.graph(), 3), Map.of());
        Tensor[] batches = {TestTensors.images(8, 1, 28, 28, 1), TestTensors.images(8, 1, 28, 28, 2), TestTensors.images(8, 1, 28, 28, 3)};
        long[] labels = new SplittableRandom(4).longs(8, 0, 10).toArray();
        try (StepEngine ahead = new StepEngine(a, start, RuntimeOptions.cpu(1), StepEngine.Mode.FUSED, 1);
                StepEngine behind = new StepEngine(a, start, RuntimeOptions.cpu(1), StepEngine.Mode.FUSED, 1)) {
            ahead.step(batches[0], labels, 0.05);
            ahead.step(batches[1], labels, 0.05);
            behind.step(batches[2], labels, 0.05);
            behind.replace(ahead.snapshot());
            ahead.step(batches[2], labels, 0.05);
            behind.step(batches[2], labels, 0.05);
            Map<String, Tensor> x = ahead.snapshot();
            Map<String, Tensor> y = behind.snapshot();
            for (String name : x.keySet()) {
                assertTrue(x.get(name).bitEquals(y.get(name)), name + " differs after the replacement");
            }
        }
    }

    /** A run's first checkpoint leaves the optimizer's moments out (they start at zero); a later one without them is refused. */
    @Test
    void onlyAFirstStepCheckpointMayLeaveOutTheOptimizerState() {
        Model model = ZOO.build("lenet5-modern");
        Optimizer opt = Optimizer.adam();
        TrainingArtifacts a = TrainingArtifacts.generate(model, TrainingSpec.of(Loss.crossEntropy(), opt));
        Checkpoint start = Checkpoint.start(a.training(), opt, Weights.initial(model.graph(), 1), Map.of());
        assertTrue(start.tensors().keySet().stream().noneMatch(n -> n.endsWith(".exp_avg")), "no zeros held in Java at the start");
        try (StepEngine e = new StepEngine(a, start, RuntimeOptions.cpu(1), StepEngine.Mode.FUSED, 1)) {
            assertTrue(e.snapshot().get("conv1.weight.exp_avg").bitEquals(Tensor.zeros(start.tensors().get("conv1.weight").shape())));
        }
        Checkpoint later = new Checkpoint(start.tensors(), Map.of("step", 40));
        ZooException refused = org.junit.jupiter.api.Assertions.assertThrows(ZooException.class,
                () -> new StepEngine(a, later, RuntimeOptions.cpu(1), StepEngine.Mode.FUSED, 1).close());
        assertTrue(refused.getMessage().contains("lacks the optimizer state"), refused.getMessage());
    }

    /**
     * ONNX Runtime's arena is off where the training graph defers gradients (VGG-16-BN's two first
     * dense layers, of 2^24 values or more) and on for the others (ResNet-18's largest trainable
     * tensor, a 512×512×3×3 kernel, has 2.36 M values).
     */
    @Test
    void theArenaIsOffOnlyForTrainableTensorsOf64MiB() {
        ModelConfig small = ModelConfig.builder().inputSize(32, 32).build();
        TrainingSpec spec = TrainingSpec.of(Loss.crossEntropy(), Optimizer.nadam());
        assertEquals(false, StepEngine.cpuArena(TrainingArtifacts.generate(ModelZoo.load().build("vgg16-bn", small), spec)));
        assertEquals(true, StepEngine.cpuArena(TrainingArtifacts.generate(ModelZoo.load().build("resnet18", small), spec)));
        // frozen, the dense layers are not trained: the arena stays on
        assertEquals(true, StepEngine.cpuArena(TrainingArtifacts.generate(ModelZoo.load().build("vgg16-bn", small),
                spec.freezing(TrainingGraph.parametersUpTo(ModelZoo.load().build("vgg16-bn", small).graph(), "classifier.3")))));
    }
}
