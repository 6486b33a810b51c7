package dev.cnnzoo.spark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.spark.SparkCli;
import dev.cnnzoo.spark.ZooSpark;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Loss;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.SyntheticData;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data-parallel training on {@code local[2]} against single-process training. */
class DataParallelTrainingTest {
    private static SparkSession spark;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = ZooSpark.session("local[2]", "data-parallel test", Map.of(), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static TrainingJob job(Path data, String model, ModelConfig config, int limit, int batch, int epochs) {
        return new TrainingJob(model, config, data.toString(), limit, Optimizer.sgd(0, false), 0.05, "constant", 0, Loss.crossEntropy(),
                epochs, batch, 7, null, "none", 0);
    }

    static Trainer.Options options(Path out, StepEngine.Mode mode, boolean resume) {
        return new Trainer.Options(out, RuntimeOptions.cpu(1), mode, resume, null, 1, 1);
    }

    /** Largest |a − b| over largest |b|, per tensor: the relative distance of two weight sets. */
    static double relativeDistance(Weights a, Weights b, List<String> names) {
        double worst = 0;
        for (String n : names) {
            float[] x = a.get(n).floats();
            float[] y = b.get(n).floats();
            double diff = 0;
            double scale = 1e-12;
            for (int i = 0; i < x.length; i++) {
                diff = Math.max(diff, Math.abs(x[i] - y[i]));
                scale = Math.max(scale, Math.abs(y[i]));
            }
            worst = Math.max(worst, diff / scale);
        }
        return worst;
    }

    @Test
    void twoWorkersAveragingEveryStepTakeOneProcesssStepsOnTheSameBatches() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 640, 64, 3);
        ModelConfig config = ModelConfig.builder().dropout(0).seed(5).build();
        TrainingJob job = job(data, "fashion-cnn", config, 0, 64, 1);
        Trainer.Outcome single = Trainer.train(job, options(dir.resolve("single"), StepEngine.Mode.FUSED, false), new Trainer.Listener() { });
        List<String> lines = new ArrayList<>();
        DataParallelTraining.Outcome parallel = DataParallelTraining.train(spark, job, options(dir.resolve("parallel"), StepEngine.Mode.FUSED, false),
                new DataParallelTraining.Settings(2, 1, 1), lines::add);
        assertEquals(10, single.steps());
        assertEquals(10, parallel.steps());
        assertEquals(2, parallel.replicas().size());
        Weights a = Safetensors.read(parallel.weights());
        Weights b = Safetensors.read(single.weights());
        List<String> names = List.copyOf(b.names());
        double d = relativeDistance(a, b, names);
        assertTrue(d < 1e-5, "relative distance " + d);
        // ... and training did move them: the comparison is not of two starting points.
        Weights start = Weights.initial(dev.cnnzoo.api.ModelZoo.load().build("fashion-cnn", config.toBuilder().classes(10).build()).graph(), 5);
        assertTrue(relativeDistance(start, b, names) > 1e-3);
        // Replica 0 logged the global batch's figures, a line per step.
        List<String> metrics = java.nio.file.Files.readAllLines(dir.resolve("parallel").resolve(Trainer.METRICS_FILE));
        assertEquals(11, metrics.size());
        assertTrue(metrics.get(0).contains("\"allreduce_seconds\""), metrics.get(0));
        assertTrue(String.join("\n", lines).contains("epoch 1: train loss"), lines.toString());
    }

    @Test
    void averagingParametersEveryKStepsKeepsReplicasEqualAndResumesFromTheCheckpoint() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 256, 32, 4);
        TrainingJob one = job(data, "lenet5-modern", ModelConfig.builder().seed(2).build(), 0, 32, 1);
        Path out = dir.resolve("k3");
        DataParallelTraining.Outcome first = DataParallelTraining.train(spark, one, options(out, StepEngine.Mode.FUSED, false),
                new DataParallelTraining.Settings(2, 3, 1), s -> { });
        assertEquals(8, first.steps());
        // The replicas' weight digests agree (train() checks it too).
        assertEquals(1, first.replicas().stream().map(Replica.Report::weightsDigest).distinct().count());
        // A second epoch resumed from the first's checkpoint equals two epochs in one go.
        DataParallelTraining.Outcome resumed = DataParallelTraining.train(spark, one.withEpochs(2), options(out, StepEngine.Mode.FUSED, true),
                new DataParallelTraining.Settings(2, 3, 1), s -> { });
        DataParallelTraining.Outcome straight = DataParallelTraining.train(spark, one.withEpochs(2), options(dir.resolve("k3-straight"),
                StepEngine.Mode.FUSED, false), new DataParallelTraining.Settings(2, 3, 1), s -> { });
        assertEquals(16, resumed.steps());
        assertTrue(Safetensors.read(resumed.weights()).bitEquals(Safetensors.read(straight.weights())));
    }

    @Test
    void withBatchNormTheRunningMeansAgreeButShardStatisticsChangeTheStep() throws IOException {
        Path data = SyntheticData.cifar(dir.resolve("cifar"), 16, 5);
        ModelConfig config = ModelConfig.builder().seed(1).build();
        TrainingJob job = job(data, "resnet18", config, 16, 8, 1).withEpochs(1);
        // 16 images, batches of 8: two steps; each of two replicas normalises its 4 images by their own statistics.
        Trainer.train(job, options(dir.resolve("single"), StepEngine.Mode.FUSED, false), new Trainer.Listener() { });
        DataParallelTraining.train(spark, job, options(dir.resolve("parallel"), StepEngine.Mode.FUSED, false),
                new DataParallelTraining.Settings(2, 1, 1), s -> { });
        Map<String, Tensor> single = Checkpoint.read(dir.resolve("single").resolve(TrainingArtifacts.CHECKPOINT)).tensors();
        Map<String, Tensor> parallel = Checkpoint.read(dir.resolve("parallel").resolve(TrainingArtifacts.CHECKPOINT)).tensors();
        // The first batch norm's running mean after step 1 is the mean of equal shards' means: the whole batch's. After step 2 it
        // also carries step 1's (different) update, so compare the stem's statistics, which see the same input both ways on step 1...
        Weights s = Weights.of(single);
        Weights p = Weights.of(parallel);
        double means = relativeDistance(p, s, List.of("bn1.running_mean"));
        double vars = relativeDistance(p, s, List.of("bn1.running_var"));
        double conv = relativeDistance(p, s, List.of("conv1.weight"));
        assertTrue(means < 1e-3, "bn1 running means differ by " + means);
        assertTrue(vars > means, "running variances: shard variances miss the spread between shard means (" + vars + " vs " + means + ")");
        assertTrue(conv > 1e-6, "the gradients of per-shard normalisation differ from the whole batch's: " + conv);
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingRuns() throws IOException {
        assertEquals("the number of workers must be at least 1, got 0",
                assertThrows(ZooException.class, () -> new DataParallelTraining.Settings(0, 1, 1)).getMessage());
        Path data = SyntheticData.idx(dir.resolve("data"), 64, 16, 4);
        assertTrue(assertThrows(ZooException.class, () -> DataParallelTraining.train(spark, job(data, "lenet5-modern",
                ModelConfig.defaults(), 0, 30, 1), options(dir.resolve("x"), StepEngine.Mode.FUSED, false),
                new DataParallelTraining.Settings(4, 1, 1), s -> { })).getMessage().contains("cannot be split evenly"));
        assertTrue(assertThrows(ZooException.class, () -> DataParallelTraining.train(spark, job(data, "lenet5-modern",
                ModelConfig.defaults(), 0, 32, 1), options(dir.resolve("x"), StepEngine.Mode.FUSED, false),
                new DataParallelTraining.Settings(4, 1, 1), s -> { })).getMessage().contains("runs 2 tasks at once but 4 workers"));
        SparkCli r = SparkCli.run("spark", "train", "lenet5-modern", "--data", data.toString(), "--workers", "0");
        assertEquals(2, r.exit());
        assertEquals("zoo: the number of workers must be at least 1, got 0", r.err().strip());
    }
}
