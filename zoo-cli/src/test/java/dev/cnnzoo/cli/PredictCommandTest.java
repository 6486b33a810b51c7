package dev.cnnzoo.cli;

import static dev.cnnzoo.cli.ZooCommandTest.zoo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.image.ImageTransform;
import dev.cnnzoo.testkit.Close;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PredictCommandTest {
    @TempDir
    Path dir;

    /** Seeded initial weights of a model as a file. */
    private Path weights(String id, ModelConfig config) throws IOException {
        Model m = ModelZoo.load().build(id, config);
        Path f = dir.resolve(id + ".safetensors");
        Safetensors.write(f, Weights.initial(m.graph(), 3), Map.of());
        return f;
    }

    private Path greyPng(String name, int size, int seed) throws IOException {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                img.getRaster().setSample(x, y, 0, r.nextInt(256));
            }
        }
        Path f = dir.resolve(name);
        ImageIO.write(img, "png", f.toFile());
        return f;
    }

    @Test
    void fashionMnistTestImagesAsPngGetTheClassesZooEvalGives() throws IOException {
        assumeTrue(Files.isDirectory(Datasets.DEBIAN_FASHION_MNIST), "Debian's dataset-fashion-mnist");
        // The zoo's own Fashion-MNIST weights for fashion-cnn, as trained by zoo train.
        String weightsFile = "pretrained";

        int n = 200;
        Dataset test = Datasets.open(Datasets.DEBIAN_FASHION_MNIST, Split.TEST, 1, 28, 28);
        Path pngs = Files.createDirectory(dir.resolve("png"));
        float[] px = new float[28 * 28];
        for (int i = 0; i < n; i++) {
            test.pixels(i, px, 0);
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int k = 0; k < px.length; k++) {
                img.getRaster().setSample(k % 28, k / 28, 0, Math.round(px[k] * 255));
            }
            ImageIO.write(img, "png", pngs.resolve(String.format("%04d.png", i)).toFile());
        }

        Path evalCsv = dir.resolve("eval.csv");
        ZooCommandTest.Result eval = zoo("eval", "fashion-cnn", "--weights", weightsFile, "--limit", Integer.toString(n),
                "--predictions", evalCsv.toString(), "--batch", "32", "--threads", "2");
        assertEquals(0, eval.exit(), eval.err());
        ZooCommandTest.Result predict = zoo("predict", "fashion-cnn", "--weights", weightsFile, pngs.toString(), "--top", "1",
                "--format", "csv", "--batch", "32", "--threads", "2");
        assertEquals(0, predict.exit(), predict.err());

        List<String> evalRows = Files.readAllLines(evalCsv).subList(1, n + 1);
        List<String> predictRows = predict.out().lines().skip(1).toList();
        assertEquals(n, predictRows.size(), predict.out());
        Set<String> classes = new HashSet<>();
        for (int i = 0; i < n; i++) {
            String[] e = evalRows.get(i).split(",");
            String[] p = predictRows.get(i).split(",");
            assertEquals(pngs.resolve(String.format("%04d.png", i)).toString(), p[0]);
            assertEquals(e[2], p[2], "image " + i + ": zoo eval predicts class " + e[2] + ", zoo predict " + p[2]);
            assertEquals(e[3], p[3], "the class names come from the trained weights");
            classes.add(p[3]);
        }
        assertEquals(10, classes.size(), "200 test images cover every class: " + classes);
    }

    @Test
    void filesThatAreNotImagesAreReportedAndTheRestPredicted() throws IOException {
        Path w = weights("lenet5-modern", ModelConfig.defaults());
        Path good = greyPng("digit.png", 28, 1);
        Path text = dir.resolve("notes.jpg");
        Files.writeString(text, "not a picture");
        ZooCommandTest.Result r = zoo("predict", "lenet5-modern", "--weights", w.toString(), good.toString(), text.toString());
        assertEquals(1, r.exit(), "some files failed");
        assertEquals("zoo: " + text + " is not an image the zoo can decode (JPEG, PNG, BMP, GIF or TIFF)", r.err().strip());
        assertTrue(r.out().contains(good + " (28×28)") && r.out().contains("  1. class "), r.out());
        assertEquals(5, r.out().lines().filter(l -> l.matches("  \\d\\. .*")).count(), "top 5 by default");

        ZooCommandTest.Result none = zoo("predict", "lenet5-modern", "--weights", w.toString(), text.toString());
        assertEquals(2, none.exit());
        assertTrue(none.err().contains("none of the 1 file(s) given is an image the zoo can read"), none.err());
        assertFalse(none.err().contains("at dev.cnnzoo"), "no stack trace");
    }

    @Test
    void labelsColourConversionAndImageNetNames() throws IOException {
        Path w = weights("lenet5-modern", ModelConfig.defaults());
        BufferedImage rgb = new BufferedImage(40, 30, BufferedImage.TYPE_INT_ARGB);
        Path colour = dir.resolve("colour.png");
        ImageIO.write(rgb, "png", colour.toFile());
        Path labels = dir.resolve("labels.txt");
        Files.writeString(labels, "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n");
        ZooCommandTest.Result r = zoo("predict", "lenet5-modern", "--weights", w.toString(), colour.toString(), "--labels", labels.toString(),
                "--top", "10");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains(colour + " (40×30, transparency dropped, colour converted to grey (ITU-R 601 luma))"), r.out());
        assertTrue(r.out().contains("classes from " + labels), r.out());
        assertTrue(r.out().contains("resize the shorter side to 28 (bilinear, antialiased), centre crop 28×28"), r.out());
        for (String name : List.of("zero", "five", "nine")) {
            assertTrue(r.out().lines().anyMatch(l -> l.matches("  \\d+\\. " + name + " .*")), r.out());
        }

        Files.writeString(labels, "cat\ndog\n");
        assertEquals("zoo: " + labels + " names 2 classes but lenet5-modern has 10",
                zoo("predict", "lenet5-modern", "--weights", w.toString(), colour.toString(), "--labels", labels.toString()).err().strip());

        // A thousand classes and no names of its own: ImageNet's.
        ModelConfig thousand = ModelConfig.builder().classes(1000).build();
        Path w1000 = weights("lenet5-modern", thousand);
        ZooCommandTest.Result imagenet = zoo("predict", "lenet5-modern", "--classes", "1000", "--weights", w1000.toString(), colour.toString(),
                "--format", "json", "--top", "1000");
        assertEquals(0, imagenet.exit(), imagenet.err());
        assertTrue(imagenet.out().contains("\"label\" : \"tench\"") && imagenet.out().contains("\"label\" : \"toilet tissue\""), imagenet.out());
    }

    /**
     * --features gives each image's last feature stage averaged over positions, which for
     * fashion-cnn (whose classifier reads its last stage) is the headless network's avg-pooled
     * output; printed, as CSV or as safetensors, the same numbers.
     */
    @Test
    void featureVectorsAreTheHeadlessNetworksAveragePooledFeatures() throws IOException {
        Path w = weights("fashion-cnn", ModelConfig.defaults());
        Path a = greyPng("a.png", 28, 1);
        Path b = greyPng("b.png", 32, 2);
        ZooCommandTest.Result text = zoo("predict", "fashion-cnn", "--weights", w.toString(), a.toString(), b.toString(), "--features",
                "--threads", "1");
        assertEquals(0, text.exit(), text.err());
        assertTrue(text.out().startsWith("fashion-cnn with weights from " + w + "; ") && text.out().contains(
                "; stage3 (pool3, 256 maps, /8) averaged over positions\n"), text.out());
        List<String> rows = text.out().lines().skip(1).toList();
        assertEquals(2, rows.size(), text.out());
        assertTrue(rows.get(0).startsWith(a + " ") && rows.get(1).startsWith(b + " "), text.out());
        assertEquals(256, rows.get(0).split(" ").length - 1);
        assertFalse(text.out().contains("class "), "no classes");

        Path csv = dir.resolve("features.csv");
        ZooCommandTest.Result toCsv = zoo("predict", "fashion-cnn", "--weights", w.toString(), a.toString(), b.toString(), "--features",
                "-o", csv.toString());
        assertEquals(0, toCsv.exit(), toCsv.err());
        assertEquals("", toCsv.out());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).startsWith("image,f0,f1,") && lines.get(0).endsWith(",f255"), lines.get(0));
        assertEquals(rows.get(0).replace(' ', ','), lines.get(1));

        Path st = dir.resolve("features.safetensors");
        assertEquals(0, zoo("predict", "fashion-cnn", "--weights", w.toString(), a.toString(), b.toString(), "--features",
                "-o", st.toString()).exit());
        var written = Safetensors.readWithMetadata(st);
        assertEquals("[\"" + a + "\",\"" + b + "\"]", written.metadata().get("zoo.images"));
        Tensor vectors = written.weights().get("features");
        assertEquals("2×256", vectors.shape().toString());

        // The headless network, avg-pooled, on the same preprocessed images.
        ModelZoo models = ModelZoo.load();
        Model headless = models.build("fashion-cnn", ModelConfig.builder().includeTop(false).build());
        ImageTransform transform = new ImageTransform(headless.info().preprocessing(), 1, 28, 28);
        float[] pixels = new float[2 * 28 * 28];
        transform.apply(ImageFiles.read(a, 1).planes(), pixels, 0);
        transform.apply(ImageFiles.read(b, 1).planes(), pixels, 28 * 28);
        float[] pooled;
        try (InferenceSession s = ZooSessions.open(headless, Safetensors.read(w).bind(headless.graph()), RuntimeOptions.cpu(1))) {
            pooled = s.run(Tensor.of(Shape.of(2, 1, 28, 28), pixels)).floats();
        }
        Close.assertRelative("--features vs the headless network's avg-pooled features", pooled, vectors.floats(), 1e-5);
        float[] printed = new float[512];
        for (int i = 0; i < 2; i++) {
            String[] v = rows.get(i).split(" ");
            for (int c = 0; c < 256; c++) {
                printed[i * 256 + c] = Float.parseFloat(v[c + 1]);
            }
        }
        assertArrayEquals(vectors.floats(), printed, 0f, "printed and written vectors are the same numbers");
    }

    @Test
    void featureFilesAreCsvOrSafetensorsAndNeedFeatures() throws IOException {
        Path w = weights("lenet5-modern", ModelConfig.defaults());
        Path a = greyPng("a.png", 28, 1);
        Path txt = dir.resolve("features.txt");
        assertEquals("zoo: --output " + txt + ": feature vectors are written as .csv or .safetensors",
                zoo("predict", "lenet5-modern", "--weights", w.toString(), a.toString(), "--features", "-o", txt.toString()).err().strip());
        assertEquals("zoo: --output writes feature vectors; it needs --features",
                zoo("predict", "lenet5-modern", "--weights", w.toString(), a.toString(), "-o", dir.resolve("f.csv").toString()).err().strip());
        assertFalse(Files.exists(txt));
        // --out-indices picks the stage the vectors pool: stage1 (pool1, 6 maps) of lenet5-modern.
        ZooCommandTest.Result first = zoo("predict", "lenet5-modern", "--weights", w.toString(), a.toString(), "--features",
                "--out-indices", "1", "--format", "csv");
        assertEquals(0, first.exit(), first.err());
        assertEquals("image,f0,f1,f2,f3,f4,f5", first.out().lines().findFirst().orElseThrow());
    }
}
