package dev.cnnzoo.spark.predict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.predict.Predictor;
import dev.cnnzoo.spark.FashionPngs;
import dev.cnnzoo.spark.SparkCli;
import dev.cnnzoo.spark.ZooSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch inference on {@code local[2]}: the command and the Transformer against {@code zoo predict}
 * on Fashion-MNIST's 10,000 test images, features in a Pipeline, and bad input.
 */
class SparkPredictTest {
    private static final Path PNGS = FashionPngs.FOLDER;
    private static Map<String, Integer> zooPredict;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeImagesAndRunZooPredict() throws IOException {
        Assumptions.assumeTrue(FashionPngs.available(), "Debian's dataset-fashion-mnist is not installed");
        FashionPngs.write(PNGS, 10_000);
        // `zoo predict` itself, in this JVM: class by file.
        List<String> args = new java.util.ArrayList<>(List.of("predict", "fashion-cnn", "--weights", "pretrained", "--format", "csv",
                "--top", "1", "--threads", "2"));
        for (int c = 0; c < 10; c++) {
            args.add(PNGS.resolve(Integer.toString(c)).toString());
        }
        SparkCli r = SparkCli.run(args);
        assertEquals(0, r.exit(), r.err());
        zooPredict = new HashMap<>();
        r.out().lines().skip(1).forEach(line -> {
            String[] f = line.split(",");
            zooPredict.put(Path.of(f[0]).toAbsolutePath().toString(), Integer.parseInt(f[2]));
        });
        assertEquals(10_000, zooPredict.size());
    }

    @AfterAll
    static void stopSpark() {
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
    }

    private static double accuracy(Map<String, Integer> classes) {
        long right = classes.entrySet().stream().filter(e -> Path.of(e.getKey()).getParent().getFileName().toString()
                .equals(Integer.toString(e.getValue()))).count();
        return (double) right / classes.size();
    }

    @Test
    void theCommandGivesZooPredictsClassForEveryTestImageAndItsAccuracy() throws IOException {
        Path out = dir.resolve("preds.csv");
        SparkCli r = SparkCli.run("spark", "predict", "fashion-cnn", "--weights", "pretrained", "--images", PNGS.toString(), "--out",
                out.toString(), "--master", "local[2]");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("10000 images on local[2]"), r.out());
        Map<String, Integer> spark = FashionPngs.classes(out);
        assertEquals(zooPredict, spark);
        // The shipped weights' published figure, to the image.
        assertEquals(0.9295, accuracy(spark), 0.5e-4);
    }

    @Test
    void theTransformerGivesTheSameClassesWithOneSessionPerExecutor() {
        // Small files packed into splits as the command packs them (Spark's default made ~320 reading tasks of these 10,000).
        SparkSession spark = ZooSpark.session("local[2]", "transformer test", Map.of("spark.sql.files.openCostInBytes",
                BatchPrediction.IMAGE_OPEN_COST), Duration.ofSeconds(30));
        Dataset<Row> images = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(PNGS.toString())
                .repartition(8);
        ExecutorModels.closeAll();          // a session an earlier test left open for the same model would serve here
        int opened = ExecutorModels.sessionsOpened();
        ZooClassifier classifier = new ZooClassifier().setModel("fashion-cnn").setWeights("pretrained").setBatchSize(32);
        List<Row> rows = classifier.transform(images).select("path", ZooClassifier.CLASS_COL, ZooClassifier.LABEL_COL, ZooImageTransformer.ERROR_COL)
                .collectAsList();
        Map<String, Integer> got = new HashMap<>();
        for (Row row : rows) {
            assertNull(row.get(3));
            got.put(row.getString(0).replaceFirst("^file:", ""), row.getInt(1));
        }
        assertEquals(zooPredict, got);
        // Eight partitions, two task threads, one session.
        assertEquals(opened + 1, ExecutorModels.sessionsOpened());
        assertEquals(10_000, classifier.imagesSeen());
    }

    @Test
    void sparksOwnImageSourceGivesTheSameClasses() {
        SparkSession spark = ZooSpark.session("local[2]", "image source test", Map.of(), Duration.ofSeconds(30));
        // Spark's image source decodes the files itself, into its BGR struct; grey PNGs stay one channel.
        Dataset<Row> images = spark.read().format("image").load(PNGS.resolve("7").toString());
        List<Row> rows = new ZooClassifier().setModel("fashion-cnn").setWeights("pretrained").setInputCol("image").transform(images)
                .select(functions.col("image.origin"), functions.col(ZooClassifier.CLASS_COL)).collectAsList();
        assertTrue(rows.size() > 900, rows.size() + " images");
        for (Row row : rows) {
            assertEquals(zooPredict.get(java.net.URI.create(row.getString(0)).getPath()), row.getInt(1), row.getString(0));
        }
    }

    /** Weights in another format (here the network exported as ONNX) go through the zoo's one resolver, as for {@code zoo predict}. */
    @Test
    void weightsInAnotherFormatGiveTheSameClasses() throws IOException {
        ModelZoo zoo = ModelZoo.load();
        Path onnx = dir.resolve("fashion-cnn.onnx");
        dev.cnnzoo.onnx.ModelExporter.write(zoo.build("fashion-cnn"), zoo.pretrained("fashion-cnn"), onnx, dev.cnnzoo.onnx.ExportOptions.defaults());
        SparkSession spark = ZooSpark.session("local[2]", "weights test", Map.of(), Duration.ofSeconds(30));
        Dataset<Row> images = spark.read().format("binaryFile").load(PNGS.resolve("3").toString()).limit(200);
        List<Row> rows = new ZooClassifier().setModel("fashion-cnn").setWeights(onnx.toString()).transform(images)
                .select("path", ZooClassifier.CLASS_COL, ZooClassifier.LABEL_COL).collectAsList();
        assertEquals(200, rows.size());
        for (Row row : rows) {
            assertEquals(zooPredict.get(row.getString(0).replaceFirst("^file:", "")), row.getInt(1), row.getString(0));
            // An ONNX file names no classes: they are numbered.
            assertEquals("class " + row.getInt(1), row.getString(2));
        }
        ExecutorModels.closeAll();
    }

    @Test
    void featuresAreTheTopLessModelsOutputAndFeedAPipeline() throws IOException {
        SparkSession spark = ZooSpark.session("local[2]", "features test", Map.of("spark.sql.files.openCostInBytes",
                BatchPrediction.IMAGE_OPEN_COST), Duration.ofSeconds(30));
        Dataset<Row> images = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(PNGS.toString()).limit(300)
                .withColumn("truth", functions.element_at(functions.split(functions.col("path"), "/"), -2).cast("double"));
        ZooFeatureExtractor features = new ZooFeatureExtractor().setModel("fashion-cnn").setWeights("pretrained");
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {features,
                new LogisticRegression().setLabelCol("truth").setMaxIter(30)}).fit(images);
        List<Row> rows = fitted.transform(images).select("path", ZooFeatureExtractor.FEATURES_COL, "prediction", "truth").collectAsList();
        assertEquals(300, rows.size());
        // A linear classifier on the pooled features separates the training images well.
        long right = rows.stream().filter(r -> r.getDouble(2) == r.getDouble(3)).count();
        assertTrue(right > 270, right + " of 300");
        // The vector is the network without its top, run as zoo-runtime runs it.
        Row first = rows.get(0);
        Path file = Path.of(first.getString(0).replaceFirst("^file:", ""));
        ModelZoo zoo = ModelZoo.load();
        Model headless = zoo.build("fashion-cnn", ModelConfig.builder().includeTop(false).build());
        try (Predictor p = Predictor.open(zoo.build("fashion-cnn"), zoo.pretrained("fashion-cnn"), null, RuntimeOptions.cpu(1), 1);
                Predictor f = Predictor.over(headless, dev.cnnzoo.runtime.ZooSessions.open(headless,
                        zoo.pretrained("fashion-cnn").bind(headless.graph()), RuntimeOptions.cpu(1)), null, 1)) {
            float[] expected = f.outputs(List.of(ImageFiles.read(file, 1).planes())).get(0);
            Vector v = first.getAs(1);
            assertEquals(expected.length, v.size());
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], v.apply(i), 1e-5 * (1 + Math.abs(expected[i])));
            }
            assertNotNull(p);
        }
    }

    @Test
    void anUnreadableImageIsReportedInItsRowAndTheRestGoOn() throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        for (int i = 0; i < 20; i++) {
            Files.copy(PNGS.resolve("1").resolve(firstIn(PNGS.resolve("1"), i)), images.resolve("ok-" + i + ".png"));
        }
        Files.write(images.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Path out = dir.resolve("preds.csv");
        SparkCli r = SparkCli.run("spark", "predict", "fashion-cnn", "--weights", "pretrained", "--images", images.toString(), "--out",
                out.toString(), "--master", "local[2]");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.out().contains("21 images (1 unreadable: see the error column)"), r.out());
        Map<String, Integer> classes = FashionPngs.classes(out);
        assertEquals(21, classes.size());
        assertEquals(-1, classes.get(images.resolve("broken.png").toAbsolutePath().toString()));
        assertEquals(20, classes.values().stream().filter(c -> c == 1).count(), "trousers: " + classes);
        StringBuilder csv = new StringBuilder();
        try (Stream<Path> parts = Files.list(out)) {
            for (Path part : parts.filter(p -> p.toString().endsWith(".csv")).toList()) {
                csv.append(Files.readString(part));
            }
        }
        assertTrue(csv.toString().contains("broken.png is not an image the zoo can decode"), csv.toString());

        // The output exists now: refused, then replaced when asked.
        SparkCli again = SparkCli.run("spark", "predict", "fashion-cnn", "--weights", "pretrained", "--images", images.toString(), "--out",
                out.toString(), "--master", "local[2]");
        assertEquals(2, again.exit());
        assertEquals("zoo: " + out + " already exists; it is replaced only when overwriting is asked for", again.err().strip());
        assertEquals(1, SparkCli.run("spark", "predict", "fashion-cnn", "--weights", "pretrained", "--images", images.toString(), "--out",
                out.toString(), "--master", "local[2]", "--overwrite").exit());
    }

    private static String firstIn(Path folder, int i) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.sorted().skip(i).findFirst().orElseThrow().getFileName().toString();
        }
    }

    @Test
    void noImagesAndAnUnreachableMasterAreOneLineEach() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Files.writeString(empty.resolve("notes.txt"), "no images here");
        SparkCli none = SparkCli.run("spark", "predict", "fashion-cnn", "--weights", "pretrained", "--images", empty.toString(), "--out",
                dir.resolve("p.csv").toString(), "--master", "local[1]");
        assertEquals(2, none.exit());
        assertTrue(none.err().strip().startsWith("zoo: no images found at " + empty), none.err());
        assertEquals(1, none.err().strip().lines().count(), none.err());

        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        long started = System.nanoTime();
        SparkCli unreachable = SparkCli.run("spark", "predict", "fashion-cnn", "--weights", "pretrained", "--images", PNGS.toString(), "--out",
                dir.resolve("q.csv").toString(), "--master", "spark://127.0.0.1:" + closed);
        assertEquals(2, unreachable.exit());
        assertTrue(unreachable.err().strip().startsWith("zoo: cannot reach the Spark master spark://127.0.0.1:" + closed), unreachable.err());
        assertEquals(1, unreachable.err().strip().lines().count(), unreachable.err());
        assertTrue(System.nanoTime() - started < 10e9, "took " + (System.nanoTime() - started) / 1e9 + " s");
    }
}
