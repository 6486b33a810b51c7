package dev.cnnzoo.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.bench.Machine;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.interchange.WeightsResolver;
import dev.cnnzoo.runtime.interchange.WeightsSource;
import dev.cnnzoo.runtime.predict.ClassNames;
import dev.cnnzoo.runtime.predict.Predictor;
import dev.cnnzoo.spark.cluster.StandaloneCluster;
import dev.cnnzoo.spark.predict.BatchPrediction;
import dev.cnnzoo.spark.predict.ZooClassifier;
import dev.cnnzoo.spark.train.DataParallelTraining;
import dev.cnnzoo.training.data.Augmentation;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.run.StepEngine;
import dev.cnnzoo.training.run.Trainer;
import dev.cnnzoo.training.run.TrainingJob;
import dev.cnnzoo.training.run.TrainingRun;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The figures of docs/benchmarks.md's Spark section, on a quiet machine (not part of the suite:
 * surefire runs it only when named):
 * <pre>
 * mvn -B -q -Pspark -pl zoo-spark -am test -Dtest=SparkBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Dbench.threads=2
 * </pre>
 * <ol>
 *   <li>Prediction: {@code zoo predict}'s path (decode each file, the Predictor in batches of 16,
 *       {@code threads} intra-op threads) against {@code zoo spark predict}'s on
 *       {@code local[threads]} (one single-threaded session shared by {@code threads} tasks), on
 *       Fashion-MNIST's 10,000 test PNGs; each timed after a warm-up pass, Spark's start-up
 *       apart.</li>
 *   <li>Training: fashion-cnn on Fashion-MNIST (100 steps of 64), one and two workers on a
 *       loopback standalone cluster of two one-core executors: images/s and the all-reduce's share
 *       of a step, from replica 0's metrics (the first logged window, with warm-up, left out).</li>
 * </ol>
 * The report goes to stdout and {@code target/spark-benchmark.md}.
 */
class SparkBenchmark {
    private final int threads = Integer.getInteger("bench.threads", 2);
    private final List<String> report = new ArrayList<>();

    @Test
    void run() throws Exception {
        report.add("Machine: " + Machine.current().describe());
        report.add("CPU flags (lscpu): " + new String(new ProcessBuilder("sh", "-c", "lscpu | grep -i '^flags'").start().getInputStream()
                .readAllBytes()).strip());
        FashionPngs.write(FashionPngs.FOLDER, 10_000);
        prediction();
        training();
        String text = String.join("\n", report);
        System.out.println(text);
        Files.writeString(Path.of("target", "spark-benchmark.md"), text + "\n");
    }

    private void prediction() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(FashionPngs.FOLDER)) {
            files = s.filter(ImageFiles::isImageName).sorted().toList();
        }
        ModelZoo zoo = ModelZoo.load();
        Model model = zoo.build("fashion-cnn");
        WeightsResolver.Resolved pretrained = new WeightsResolver(zoo).resolve(WeightsSource.parse("pretrained"), model);
        List<String> labels = ClassNames.resolve(model, pretrained, null).names();
        double single;
        try (Predictor p = Predictor.open(model, pretrained.weights(), labels, RuntimeOptions.cpu(threads), 16)) {
            predictAll(p, files);
            long t = System.nanoTime();
            predictAll(p, files);
            single = files.size() / ((System.nanoTime() - t) / 1e9);
        }
        long t0 = System.nanoTime();
        SparkSession spark = ZooSpark.session("local[" + threads + "]", "benchmark", Map.of("spark.sql.files.openCostInBytes",
                BatchPrediction.IMAGE_OPEN_COST), Duration.ofSeconds(30));
        double startup = (System.nanoTime() - t0) / 1e9;
        try {
            Path out = Files.createTempDirectory("zoo-spark-bench");
            ZooClassifier stage = new ZooClassifier().setModel("fashion-cnn").setWeights("pretrained");
            BatchPrediction.Result warm = BatchPrediction.run(spark, stage, FashionPngs.FOLDER.toString(), out.resolve("warm.csv").toString(), false);
            BatchPrediction.Result timed = BatchPrediction.run(spark, stage, FashionPngs.FOLDER.toString(), out.resolve("timed.csv").toString(), false);
            report.add("");
            report.add(String.format(Locale.ROOT, "| fashion-cnn, %d Fashion-MNIST PNGs, %d threads | images/s |", files.size(), threads));
            report.add("| --- | --- |");
            report.add(String.format(Locale.ROOT, "| `zoo predict` (one process) | %.0f |", single));
            report.add(String.format(Locale.ROOT, "| `zoo spark predict` on local[%d], once running | %.0f (%+.1f %%) |", threads,
                    timed.imagesPerSecond(), 100 * (timed.imagesPerSecond() / single - 1)));
            report.add(String.format(Locale.ROOT, "| ... its first run (model export, session open, JIT) | %.0f |", warm.imagesPerSecond()));
            report.add(String.format(Locale.ROOT, "Spark's start-up (local[%d] session): %.1f s", threads, startup));
        } finally {
            spark.stop();
        }
    }

    private static void predictAll(Predictor p, List<Path> files) {
        List<Predictor.Input> batch = new ArrayList<>();
        for (Path f : files) {
            ImageFiles.Decoded d = ImageFiles.read(f, 1);
            batch.add(new Predictor.Input(f.toString(), d.planes(), d.conversion()));
            if (batch.size() == 16) {
                p.predict(batch, 5);
                batch.clear();
            }
        }
        p.predict(batch, 5);
    }

    private void training() throws Exception {
        Path work = Files.createTempDirectory("zoo-spark-bench-cluster");
        List<String> javaOptions = Files.readAllLines(Path.of("java17.options"));
        try (StandaloneCluster cluster = StandaloneCluster.start(Path.of("target", "spark-jars"), javaOptions, work.resolve("cluster"), 2, 1,
                "3g", Duration.ofMinutes(2))) {
            report.add("");
            report.add("| fashion-cnn training, batch 64, standalone cluster (loopback) | images/s | step | all-reduce | its share |");
            report.add("| --- | --- | --- | --- | --- |");
            for (int workers : new int[] {1, 2}) {
                SparkSession spark = SparkSession.builder().master(cluster.masterUrl()).appName("benchmark " + workers)
                        .config("spark.ui.enabled", "false").config("spark.executor.cores", "1").config("spark.cores.max", Integer.toString(workers))
                        .config("spark.executor.memory", "2g").config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                        .config("spark.executor.extraClassPath", testClassPath()).getOrCreate();
                try {
                    ZooSpark.awaitExecutors(spark.sparkContext(), Duration.ofMinutes(2));
                    Path out = work.resolve("run-" + workers);
                    TrainingJob job = TrainingJob.builder(Datasets.DEBIAN_FASHION_MNIST).limit(6400).epochs(1).batchSize(64).seed(1)
                            .augmentation(Augmentation.none()).checkpointEvery(0).build();
                    TrainingRun run = TrainingRun.start(out, job.buildModel(ModelZoo.load(), "fashion-cnn", ModelConfig.defaults()), job);
                    DataParallelTraining.train(spark, run, new Trainer.Settings(RuntimeOptions.cpu(0), StepEngine.Mode.FUSED, 10, 1),
                            new DataParallelTraining.Settings(workers, 1, 1), s -> { });
                    double images = 0;
                    double step = 0;
                    double reduce = 0;
                    int n = 0;
                    for (String line : Files.readAllLines(out.resolve(Trainer.METRICS_FILE))) {
                        JsonNode r = new ObjectMapper().readTree(line);
                        if (r.path("kind").asText().equals("step") && r.path("step").asLong() > 10) {
                            images += r.path("images_per_second").asDouble();
                            step += r.path("step_seconds").asDouble();
                            reduce += r.path("allreduce_seconds").asDouble();
                            n++;
                        }
                    }
                    report.add(String.format(Locale.ROOT, "| %d worker%s | %.0f | %.0f ms | %.1f ms | %.1f %% |", workers, workers == 1 ? "" : "s",
                            images / n, 1000 * step / n, 1000 * reduce / n, 100 * reduce / step));
                } finally {
                    spark.stop();
                }
            }
        }
    }

    private static String testClassPath() {
        return String.join(File.pathSeparator, System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
                .split(File.pathSeparator));
    }
}
