package dev.cnnzoo.spark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.spark.SparkCli;
import dev.cnnzoo.spark.ZooSpark;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.Optimizer;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.SyntheticData;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.training.run.TrainingRun;
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

    /** Plain SGD at 0.05, constant, no augmentation, data order seed 7. */
    static TrainingJob job(Path data, int limit, int batch, int epochs) {
        return TrainingJob.builder(data).limit(limit).optimizer(Optimizer.sgd(0, false)).learningRate(0.05).epochs(epochs).batchSize(batch)
                .seed(7).augmentation(Augmentation.none()).checkpointEvery(0).build();
    }

    /** A new run of {@code model} (sized for the job's data) in {@code out}. */
    static TrainingRun run(Path out, String model, ModelConfig config, TrainingJob job) {
        return TrainingRun.start(out, job.buildModel(ModelZoo.load(), model, config), job);
    }

    /** One intra-op thread, a metrics line every step, one loader thread. */
    static final Trainer.Settings SETTINGS = new Trainer.Settings(RuntimeOptions.cpu(1), StepEngine.Mode.FUSED, 1, 1);

    /** ‖a − b‖ / ‖b‖ over the named tensors together. */
    static double relativeDistance(Weights a, Weights b, List<String> names) {
        double diff = 0;
        double norm = 0;
        for (String n : names) {
            float[] x = a.get(n).floats();
            float[] y = b.get(n).floats();
            for (int i = 0; i < x.length; i++) {
                diff += ((double) x[i] - y[i]) * ((double) x[i] - y[i]);
                norm += (double) y[i] * y[i];
            }
        }
        return Math.sqrt(diff / Math.max(norm, 1e-30));
    }

    /**
     * Three steps of plain SGD on global batches of 64, no dropout, no batch norm: two workers
     * averaging their gradients every step end where one process does. The network's weights agree
     * within 1e-5 relative, tensor by tensor (1e-8 seen). The convolutions' biases agree within 1e-3
     * only: each one's gradient sums 64 × 28 × 28 (or 64 × 14 × 14, 64 × 7 × 7) terms that nearly
     * cancel, and one float sum versus the mean of two half sums can move such a small total by a
     * few 1e-4 of itself (2e-7 seen on AVX-512 hosts; on a 2-core AVX2 EPYC, whose blocked
     * convolutions take 8 maps a block, conv3.bias ended 3.2e-4 apart, every run, with or without
     * that day's training changes). Longer runs amplify any rounding once a ReLU or max-pooling input
     * within rounding of its kink goes the other way: at five steps, one process with two intra-op
     * threads ended 1.3e-4 from itself with one thread on conv1's weights and 1e-2 on the biases,
     * exactly as far as the two workers did (the weight gradients over im2col columns sum in an
     * order that depends on the threads and the batch); after ten steps at 0.05, 3 % on the biases.
     */
    @Test
    void twoWorkersAveragingEveryStepTakeOneProcesssStepsOnTheSameBatches() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 320, 64, 3);
        ModelConfig config = ModelConfig.builder().dropout(0).seed(5).build();
        TrainingJob job = job(data, 192, 64, 1);
        Trainer.Outcome single = new Trainer(SETTINGS).train(run(dir.resolve("single"), "fashion-cnn", config, job));
        List<String> lines = new ArrayList<>();
        DataParallelTraining.Outcome parallel = DataParallelTraining.train(spark, run(dir.resolve("parallel"), "fashion-cnn", config, job), SETTINGS,
                new DataParallelTraining.Settings(2, 1, 1), lines::add);
        assertEquals(3, single.steps());
        assertEquals(3, parallel.steps());
        assertEquals(2, parallel.replicas().size());
        Weights a = Safetensors.read(parallel.weights());
        Weights b = Safetensors.read(single.weights());
        for (String name : b.names()) {
            double d = relativeDistance(a, b, List.of(name));
            boolean nearlyCancellingSum = name.startsWith("conv") && name.endsWith(".bias");
            assertTrue(d < (nearlyCancellingSum ? 1e-3 : 1e-5), name + ": relative distance " + d);
        }
        // ... and training did move them: the comparison is not of two starting points.
        Weights start = Weights.initial(ModelZoo.load().build("fashion-cnn", config.toBuilder().classes(10).build()).graph(), 5);
        assertTrue(relativeDistance(start, b, List.of("conv1.weight")) > 1e-3);
        // Replica 0 logged the global batch's figures, a line per step, with the all-reduce's time.
        List<String> metrics = java.nio.file.Files.readAllLines(dir.resolve("parallel").resolve(Trainer.METRICS_FILE));
        assertEquals(4, metrics.size());
        assertTrue(metrics.get(0).contains("\"allreduce_seconds\""), metrics.get(0));
        assertTrue(String.join("\n", lines).contains("epoch 1: train loss"), lines.toString());
    }

    @Test
    void averagingParametersEveryKStepsKeepsReplicasEqualAndResumesFromTheCheckpoint() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 256, 32, 4);
        ModelConfig config = ModelConfig.builder().seed(2).build();
        TrainingJob one = job(data, 0, 32, 1);
        Path out = dir.resolve("k3");
        DataParallelTraining.Outcome first = DataParallelTraining.train(spark, run(out, "lenet5-modern", config, one), SETTINGS,
                new DataParallelTraining.Settings(2, 3, 1), s -> { });
        assertEquals(8, first.steps());
        // The replicas' weight digests agree (train() checks it too).
        assertEquals(1, first.replicas().stream().map(Replica.Report::weightsDigest).distinct().count());
        // A second epoch resumed from the first's checkpoint equals two epochs in one go.
        DataParallelTraining.Outcome resumed = DataParallelTraining.train(spark, TrainingRun.resume(out).withEpochs(2), SETTINGS,
                new DataParallelTraining.Settings(2, 3, 1), s -> { });
        DataParallelTraining.Outcome straight = DataParallelTraining.train(spark, run(dir.resolve("k3-straight"), "lenet5-modern", config,
                one.withEpochs(2)), SETTINGS, new DataParallelTraining.Settings(2, 3, 1), s -> { });
        assertEquals(16, resumed.steps());
        assertTrue(Safetensors.read(resumed.weights()).bitEquals(Safetensors.read(straight.weights())));
    }

    /**
     * With batch norm (ResNet-18 at 32×32) two workers are not one process: each normalises its
     * shard by the shard's own statistics, so the gradients differ. What holds after a step: the
     * running means (averaged over equal shards, the mean of shard means is the batch mean); what
     * does not: the running variances (the mean of shard variances misses the spread between the
     * shard means) and the weights.
     */
    @Test
    void withBatchNormRunningMeansAgreeButShardStatisticsChangeTheStep() throws IOException {
        Path data = SyntheticData.cifar(dir.resolve("cifar"), 16, 5);
        ModelConfig config = ModelConfig.builder().input(3, 32, 32).classes(10).seed(1).build();
        TrainingJob job = job(data, 8, 8, 1);
        new Trainer(SETTINGS).train(run(dir.resolve("single"), "resnet18", config, job));
        DataParallelTraining.train(spark, run(dir.resolve("parallel"), "resnet18", config, job), SETTINGS, new DataParallelTraining.Settings(2, 1, 1),
                s -> { });
        Weights s = Weights.of(Checkpoint.read(dir.resolve("single").resolve(TrainingArtifacts.CHECKPOINT)).tensors());
        Weights p = Weights.of(Checkpoint.read(dir.resolve("parallel").resolve(TrainingArtifacts.CHECKPOINT)).tensors());
        double means = relativeDistance(p, s, List.of("bn1.running_mean"));
        double variances = relativeDistance(p, s, List.of("bn1.running_var"));
        double weights = relativeDistance(p, s, List.of("conv1.weight"));
        assertTrue(means < 1e-5, "bn1's running means differ by " + means);
        // Momentum 0.1 dilutes one step's difference into a running variance that starts at 1: ~1e-5 here, far above rounding.
        assertTrue(variances > 1e-6 && variances > 10 * means, "bn1's running variances differ by only " + variances);
        assertTrue(weights > 1e-5, "conv1's weights differ by only " + weights);
    }

    /**
     * A Spark run leaves a {@code zoo train} run's folder: {@code zoo eval --checkpoint} reads it
     * (giving the test accuracy the run logged) and {@code zoo train --resume} lengthens it; and a
     * run {@code zoo train} began goes on on Spark, ending as a finished run.
     */
    @Test
    void sparkRunsAndZooTrainRunsGoOnInEachOther() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("data"), 128, 64, 6);
        Path sparkRun = dir.resolve("spark-run");
        DataParallelTraining.train(spark, run(sparkRun, "lenet5-modern", ModelConfig.defaults(), job(data, 0, 32, 1)), SETTINGS,
                new DataParallelTraining.Settings(2, 1, 1), s -> { });
        List<String> metrics = java.nio.file.Files.readAllLines(sparkRun.resolve(Trainer.METRICS_FILE));
        double logged = new com.fasterxml.jackson.databind.ObjectMapper().readTree(metrics.get(metrics.size() - 1)).path("test_accuracy").asDouble();
        SparkCli eval = SparkCli.run("eval", "lenet5-modern", "--checkpoint", sparkRun.toString(), "--threads", "1");
        assertEquals(0, eval.exit(), eval.err());
        assertTrue(eval.out().contains(String.format(java.util.Locale.ROOT, "accuracy %.2f%% (64 images)", 100 * logged)), eval.out());
        SparkCli more = SparkCli.run("train", "lenet5-modern", "--resume", "--out", sparkRun.toString(), "--epochs", "2", "--threads", "1",
                "--no-progress");
        assertEquals(0, more.exit(), more.err());
        assertTrue(more.out().contains("trained lenet5-modern for 8 steps"), more.out());

        Path zooRun = dir.resolve("zoo-run");
        SparkCli began = SparkCli.run("train", "lenet5-modern", "--data", data.toString(), "--out", zooRun.toString(), "--epochs", "1",
                "--optimizer", "sgd", "--momentum", "0", "--lr", "0.05", "--batch", "32", "--augment", "none", "--threads", "1", "--no-progress");
        assertEquals(0, began.exit(), began.err());
        DataParallelTraining.Outcome went = DataParallelTraining.train(spark, TrainingRun.resume(zooRun).withEpochs(2), SETTINGS,
                new DataParallelTraining.Settings(2, 1, 1), s -> { });
        assertEquals(8, went.steps());
        TrainingRun after = TrainingRun.resume(zooRun);
        assertEquals(2, after.epochsDone());
        assertTrue(after.finished());
        assertTrue(after.weights().bitEquals(Safetensors.read(went.weights())));
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingRuns() throws IOException {
        assertEquals("the number of workers must be at least 1, got 0",
                assertThrows(ZooException.class, () -> new DataParallelTraining.Settings(0, 1, 1)).getMessage());
        Path data = SyntheticData.idx(dir.resolve("data"), 64, 16, 4);
        assertTrue(assertThrows(ZooException.class, () -> DataParallelTraining.train(spark, run(dir.resolve("x"), "lenet5-modern",
                ModelConfig.defaults(), job(data, 0, 30, 1)), SETTINGS, new DataParallelTraining.Settings(4, 1, 1), s -> { }))
                .getMessage().contains("cannot be split evenly"));
        assertTrue(assertThrows(ZooException.class, () -> DataParallelTraining.train(spark, run(dir.resolve("x"), "lenet5-modern",
                ModelConfig.defaults(), job(data, 0, 32, 1)), SETTINGS, new DataParallelTraining.Settings(4, 1, 1), s -> { }))
                .getMessage().contains("runs 2 tasks at once but 4 workers"));
        SparkCli r = SparkCli.run("spark", "train", "lenet5-modern", "--data", data.toString(), "--workers", "0");
        assertEquals(2, r.exit());
        assertEquals("zoo: the number of workers must be at least 1, got 0", r.err().strip());
    }
}
