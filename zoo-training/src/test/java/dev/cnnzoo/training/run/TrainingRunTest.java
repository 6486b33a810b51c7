package dev.cnnzoo.training.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.SyntheticData;
import dev.cnnzoo.weights.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a run folder holds and how a run goes on from it: resuming, finishing, lengthening, sizing and data in memory. */
class TrainingRunTest {
    private static final ModelZoo ZOO = ModelZoo.load();
    private static final Trainer TRAINER = new Trainer(new Trainer.Settings(RuntimeOptions.cpu(2), StepEngine.Mode.FUSED, 4, 2));

    @TempDir
    Path dir;

    /** 160 images, batches of 16: 10 steps an epoch; a constant rate, so a run's length does not change its steps. */
    private static TrainingJob job(Path data, int epochs) {
        return TrainingJob.builder(data).optimizer(Optimizer.adam()).learningRate(2e-3).epochs(epochs).batchSize(16).seed(5)
                .checkpointEvery(4).build();
    }

    @Test
    void aFinishedRunIsNotTrainedOnAndALengthenedOneEndsWhereALongerRunEnds() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 160, 16, 7);
        Model model = ZOO.build("lenet5-modern");
        TRAINER.train(model, job(data, 1), dir.resolve("one"));
        Trainer.Outcome two = TRAINER.train(model, job(data, 2), dir.resolve("two"));

        Path one = dir.resolve("one");
        Path onnx = one.resolve(Trainer.MODEL_FILE);
        Path weights = one.resolve(Trainer.WEIGHTS_FILE);
        byte[] onnxBefore = Files.readAllBytes(onnx);
        byte[] weightsBefore = Files.readAllBytes(weights);
        FileTime written = Files.getLastModifiedTime(weights);

        TrainingRun finished = TrainingRun.resume(one);
        assertTrue(finished.finished());
        assertEquals(1, finished.epochsDone());
        assertEquals(10, finished.step());
        TrainingFinishedException e = assertThrows(TrainingFinishedException.class, () -> TRAINER.train(finished));
        assertEquals(1, e.epochs());
        assertTrue(e.getMessage().contains("has finished its 1 epoch") && e.getMessage().contains("more epochs"), e.getMessage());
        assertArrayEquals(onnxBefore, Files.readAllBytes(onnx), "the trained network is not overwritten");
        assertArrayEquals(weightsBefore, Files.readAllBytes(weights));
        assertEquals(written, Files.getLastModifiedTime(weights));
        assertEquals(10, Checkpoint.read(one.resolve(TrainingArtifacts.CHECKPOINT)).step());

        assertThrows(dev.cnnzoo.api.ZooException.class, () -> finished.withEpochs(0), "a run is lengthened, not shortened");
        Trainer.Outcome lengthened = TRAINER.train(finished.withEpochs(2));
        assertEquals(1, lengthened.epochs().size(), "one more epoch");
        assertEquals(20, lengthened.steps());
        assertTrue(two.trained().bitEquals(lengthened.trained()), "a 1-epoch run lengthened to 2 ends as a 2-epoch run does");
        assertEquals(2, TrainingRun.resume(one).job().epochs(), "the checkpoint records the new length");
    }

    @Test
    void theJobRoundTripsThroughTheCheckpointAndEarlierCheckpointsStillResume() throws IOException {
        TrainingJob job = TrainingJob.builder(Path.of("/data/cifar")).limit(100).optimizer(Optimizer.sgd(0.9, true).withWeightDecay(5e-4))
                .learningRate(0.1).schedule(Schedule.step(30, 0.1)).warmupSteps(500).loss(Loss.crossEntropy().labelSmoothing(0.1))
                .epochs(90).batchSize(128).seed(42).freezeUntil("layer3").augmentation(Augmentation.of(Augmentation.Kind.SHIFT, Augmentation.Kind.FLIP))
                .checkpointEvery(0).build();
        assertEquals(job, TrainingJob.fromProperties(job.toProperties()));
        assertEquals(job, TrainingJob.fromProperties(new ObjectMapper().readValue(new ObjectMapper().writeValueAsString(job.toProperties()),
                LinkedHashMap.class)), "through JSON, as a checkpoint stores it");
        assertEquals(List.of(), job.differences(TrainingJob.fromProperties(job.toProperties())));
        assertEquals(List.of("learning_rate", "schedule"), job.differences(job.toBuilder().learningRate(0.2).schedule(Schedule.cosine()).build())
                .stream().map(TrainingJob.Difference::property).toList());

        // A run started and then given the properties an earlier zoo wrote: the configuration as the
        // options set it (not resolved), the schedule and augmentation as the user typed them.
        Path data = SyntheticData.idx(dir.resolve("data"), 64, 16, 3);
        Path run = dir.resolve("earlier");
        Model model = ZOO.build("lenet5-modern");
        TRAINER.train(model, job(data, 1).toBuilder().limit(32).build(), run);
        Path file = run.resolve(TrainingArtifacts.CHECKPOINT);
        Checkpoint c = Checkpoint.read(file);
        Map<String, Object> earlier = new LinkedHashMap<>();
        earlier.put("model", "lenet5-modern");
        earlier.put("config", Map.of("classes", 10, "inputChannels", 1, "inputSize", List.of(28, 28)));
        earlier.put("data", data.toString());
        earlier.put("limit", 32);
        earlier.put("optimizer", Map.of("kind", "ADAM", "momentum", 0.0, "nesterov", false, "beta1", 0.9, "beta2", 0.999, "epsilon", 1e-8,
                "weight_decay", 0.0, "momentum_decay", 0.0, "description", "adam(betas=(0.9, 0.999), eps=1.0E-8, weight_decay=0.0)"));
        earlier.put("learning_rate", 2e-3);
        earlier.put("schedule", "Step:1:0.5");
        earlier.put("warmup_steps", 0);
        earlier.put("label_smoothing", 0.0);
        earlier.put("auxiliary_weight", 0.3);
        earlier.put("epochs", 1);
        earlier.put("batch_size", 16);
        earlier.put("seed", 5);
        earlier.put("freeze_until", null);
        earlier.put("augmentation", "Shift, flip");
        earlier.put("checkpoint_every", 4);
        earlier.put("epoch", c.epoch());
        earlier.put("step", c.step());
        new Checkpoint(c.tensors(), earlier).write(file);

        TrainingRun resumed = TrainingRun.resume(run);
        assertEquals("lenet5-modern", resumed.model().id());
        assertEquals(Schedule.step(1, 0.5), resumed.job().schedule());
        assertEquals(Augmentation.of(Augmentation.Kind.SHIFT, Augmentation.Kind.FLIP), resumed.job().augmentation());
        assertEquals(data, resumed.job().data());
        Trainer.Outcome more = TRAINER.train(resumed.withEpochs(2));
        assertEquals(4, more.steps(), "two epochs of 32 images in batches of 16");
        assertEquals(2, Checkpoint.read(file).epoch());
    }

    @Test
    void theModelIsSizedFromTheDataUnlessTheConfigurationSaysOtherwise() throws IOException {
        Path cifar = SyntheticData.cifar(dir.resolve("cifar"), 8, 1);
        TrainingJob job = TrainingJob.builder(cifar).build();
        Model sized = job.buildModel(ZOO, "lenet5-modern", ModelConfig.defaults());
        assertEquals(3, sized.config().inputChannels());
        assertArrayEquals(new int[] {32, 32}, sized.config().inputSize());
        assertEquals(10, sized.config().classes());
        Model asked = job.buildModel(ZOO, "lenet5-modern", ModelConfig.builder().classes(4).build());
        assertEquals(4, asked.config().classes(), "a class count that is set stays");
        assertEquals(3, asked.config().inputChannels());

        DataMismatchException e = assertThrows(DataMismatchException.class, () -> TRAINER.train(asked, job, dir.resolve("run")));
        assertEquals(DataMismatchException.Aspect.CLASSES, e.aspect());
        assertEquals("10", e.fits());
        assertTrue(e.getMessage().endsWith("; build the model for 10 classes"), e.getMessage());
        assertFalse(e.getMessage().contains("--"), "library messages name no command-line flags");
    }

    @Test
    void aRunTrainsOnDataHeldInMemory() throws IOException {
        int n = 32;
        float[] pixels = new float[n * 28 * 28];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            java.util.Arrays.fill(pixels, i * 784, (i + 1) * 784, labels[i] == 0 ? 0.1f : 0.9f);
        }
        Dataset data = Dataset.of("dark or bright", List.of("dark", "bright"), Tensor.of(Shape.of(n, 1, 28, 28), pixels), labels);
        Model model = ZOO.build("lenet5-modern", TrainingJob.fitToData(ModelConfig.defaults(), data));
        assertEquals(2, model.config().classes());
        TrainingJob job = TrainingJob.builder().optimizer(Optimizer.adam()).learningRate(3e-3).epochs(3).batchSize(8).build();
        Trainer.Outcome o = TRAINER.train(TrainingRun.start(dir.resolve("memory"), model, job).withData(data, data));
        assertEquals(12, o.steps());
        assertTrue(o.epochs().get(2).testAccuracy() == 1.0, "two flat greys are told apart: " + o.epochs().get(2));
        assertEquals(List.of("dark", "bright"), List.of(new ObjectMapper().readValue(
                Safetensors.readWithMetadata(o.weights()).metadata().get(Trainer.LABELS_METADATA), String[].class)));
        assertThrows(dev.cnnzoo.api.ZooException.class, () -> Dataset.of("bad", List.of("a"), Tensor.of(Shape.of(1, 1, 2, 2), new float[4]),
                new int[] {1}), "a label outside the classes");
    }
}
