package dev.cnnzoo.spark.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.spark.FashionPngs;
import dev.cnnzoo.spark.SparkCli;
import dev.cnnzoo.training.Checkpoint;
import dev.cnnzoo.training.TrainingArtifacts;
import dev.cnnzoo.training.data.SyntheticData;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.weights.Safetensors;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code zoo spark} against a real Spark standalone cluster on 127.0.0.1: a Master and two Worker
 * JVMs from Spark's jars, two single-core executors. Prediction and training must give what
 * {@code local[2]} gives; a worker killed mid-training must cost only the steps since the last
 * checkpoint. Every process started is stopped at the end.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class StandaloneClusterTest {
    private static StandaloneCluster cluster;
    @TempDir
    static Path dir;

    @BeforeAll
    static void startCluster() throws IOException {
        Assumptions.assumeTrue(FashionPngs.available(), "Debian's dataset-fashion-mnist is not installed");
        List<String> javaOptions = Files.readAllLines(Path.of("java17.options"));
        // Two cores per worker: when one worker dies, the other can take its executor's place.
        cluster = StandaloneCluster.start(Path.of("target", "spark-jars"), javaOptions, dir.resolve("cluster"), 2, 2, "2g",
                Duration.ofMinutes(2));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The settings of an application on the cluster: two one-core executors, the zoo's classes from this build, loopback only. */
    static List<String> onCluster() {
        List<String> zoo = new ArrayList<>();
        for (String entry : System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")).split(File.pathSeparator)) {
            zoo.add(Path.of(entry).toAbsolutePath().toString());
        }
        return List.of("--master", cluster.masterUrl(), "--conf", "spark.executor.cores=1", "--conf", "spark.cores.max=2",
                "--conf", "spark.executor.memory=1g", "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.executor.extraClassPath=" + String.join(File.pathSeparator, zoo),
                "--conf", "spark.scheduler.barrier.maxConcurrentTasksCheck.interval=2s", "--executor-wait", "120");
    }

    private static List<String> with(List<String> a, String... b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(List.of(b));
        return l;
    }

    @Test
    @Order(1)
    void predictionOnTheClusterEqualsLocalPrediction() throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        for (int c = 0; c < 10; c++) {
            Path from = FashionPngs.FOLDER.resolve(Integer.toString(c));
            Path to = Files.createDirectories(images.resolve(Integer.toString(c)));
            try (var s = Files.list(from)) {
                for (Path p : s.sorted().limit(30).toList()) {
                    Files.copy(p, to.resolve(p.getFileName()));
                }
            }
        }
        List<String> predict = List.of("spark", "predict", "fashion-cnn", "--weights", "pretrained", "--images", images.toString());
        SparkCli local = SparkCli.run(with(predict, "--out", dir.resolve("local.csv").toString(), "--master", "local[2]"));
        assertEquals(0, local.exit(), local.err());
        SparkCli remote = SparkCli.run(with(with(predict, "--out", dir.resolve("cluster.csv").toString()), onCluster().toArray(String[]::new)));
        assertEquals(0, remote.exit(), remote.err());
        assertTrue(remote.out().contains("300 images on " + cluster.masterUrl()), remote.out());
        assertEquals(FashionPngs.classes(dir.resolve("local.csv")), FashionPngs.classes(dir.resolve("cluster.csv")));
    }

    private static List<String> train(Path data, Path out) {
        return List.of("spark", "train", "fashion-cnn", "--data", data.toString(), "--out", out.toString(), "--workers", "2",
                "--dropout", "0", "--optimizer", "sgd", "--momentum", "0", "--lr", "0.05", "--batch", "32", "--epochs", "3",
                "--checkpoint-every", "2", "--augment", "none", "--no-progress");
    }

    @Test
    @Order(2)
    void trainingOnTheClusterEqualsLocalTrainingAndSurvivesAKilledWorker() throws Exception {
        Path data = SyntheticData.idx(dir.resolve("data"), 384, 32, 9);
        SparkCli local = SparkCli.run(with(train(data, dir.resolve("local-run")), "--master", "local[2]"));
        assertEquals(0, local.exit(), local.err());
        SparkCli remote = SparkCli.run(with(train(data, dir.resolve("cluster-run")), onCluster().toArray(String[]::new)));
        assertEquals(0, remote.exit(), remote.err());
        assertTrue(remote.out().contains("trained fashion-cnn for 36 steps on 2 workers"), remote.out());
        assertTrue(Safetensors.read(dir.resolve("local-run").resolve(Trainer.WEIGHTS_FILE))
                .bitEquals(Safetensors.read(dir.resolve("cluster-run").resolve(Trainer.WEIGHTS_FILE))), "cluster and local weights differ");

        // The same run again, with a worker killed once replica 0 has checkpointed step 4.
        Path faulty = dir.resolve("faulty-run");
        java.io.StringWriter log = new java.io.StringWriter();
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> {
            picocli.CommandLine cl = dev.cnnzoo.spark.cli.SparkMain.commandLine();
            cl.setOut(new java.io.PrintWriter(log, true));
            cl.setErr(new java.io.PrintWriter(log, true));
            return cl.execute(with(train(data, faulty), onCluster().toArray(String[]::new)).toArray(String[]::new));
        });
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        // Replica 0 rewrites the driver's starting checkpoint at step 2: training is under way.
        Path checkpoint = faulty.resolve(TrainingArtifacts.CHECKPOINT);
        while (!run.isDone() && !(log.toString().contains("attempt 1 of 3") && Files.exists(checkpoint) && stepReached(faulty) >= 2)) {
            assertTrue(System.nanoTime() < deadline, "the run did not checkpoint: " + log);
            Thread.sleep(50);
        }
        assertTrue(!run.isDone(), "the run ended before a worker could be killed: " + log);
        String before = describeProcesses();
        int killed = cluster.killWorkerOfNewestExecutor();
        String killedAt = "killed worker " + killed + " at checkpoint step " + stepReached(faulty) + "; processes before: " + before;
        assertEquals(0, run.get(6, TimeUnit.MINUTES), killedAt + "\n" + log);
        assertTrue(log.toString().contains("attempt 2 of 3"), killedAt + "\n" + log);
        assertTrue(log.toString().contains("from the checkpoint at step"), log.toString());
        // The final checkpoint is whole, loads, and the run ends where an uninterrupted one does.
        Checkpoint last = Checkpoint.read(faulty.resolve(TrainingArtifacts.CHECKPOINT));
        assertEquals(36, last.step());
        assertTrue(Safetensors.read(faulty.resolve(Trainer.WEIGHTS_FILE)).bitEquals(Safetensors.read(dir.resolve("local-run")
                .resolve(Trainer.WEIGHTS_FILE))), "the resumed run's weights differ from the uninterrupted run's");
    }

    private static String describeProcesses() {
        StringBuilder b = new StringBuilder();
        ProcessHandle.current().descendants().forEach(p -> b.append("\n  ").append(p.pid()).append(" ").append(p.info().startInstant().orElse(null))
                .append(" ").append(p.info().commandLine().orElse("?").replaceAll("-cp \\S+", "-cp ...")));
        return b.toString();
    }

    private static long stepReached(Path out) {
        Path c = out.resolve(TrainingArtifacts.CHECKPOINT);
        try {
            return Files.exists(c) ? Checkpoint.read(c).step() : 0;
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
