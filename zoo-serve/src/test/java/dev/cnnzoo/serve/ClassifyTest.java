package dev.cnnzoo.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.predict.Predictor;
import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** classify gives, image for image, the classes and probabilities {@code zoo predict}'s library gives. */
class ClassifyTest {
    @TempDir
    Path dir;

    /** The first {@code n} Fashion-MNIST test images as grey PNGs, and one as an RGB JPEG (converted to grey by both). */
    static List<Path> fashionImages(Path dir, int n) throws Exception {
        Dataset test = Datasets.open(Datasets.DEBIAN_FASHION_MNIST, Split.TEST, 1, 28, 28);
        List<Path> files = new ArrayList<>();
        float[] px = new float[28 * 28];
        for (int i = 0; i < n; i++) {
            test.pixels(i, px, 0);
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int k = 0; k < px.length; k++) {
                img.getRaster().setSample(k % 28, k / 28, 0, Math.round(px[k] * 255));
            }
            Path f = dir.resolve(String.format("%03d.png", i));
            ImageIO.write(img, "png", f.toFile());
            files.add(f);
            if (i == 0) {
                BufferedImage rgb = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
                rgb.getGraphics().drawImage(img, 0, 0, null);
                Path j = dir.resolve("000-rgb.jpg");
                ImageIO.write(rgb, "jpg", j.toFile());
                files.add(j);
            }
        }
        return files;
    }

    @Test
    void fashionMnistImagesGetTheClassesZooPredictGives() throws Exception {
        assumeTrue(Files.isDirectory(Datasets.DEBIAN_FASHION_MNIST), "Debian's dataset-fashion-mnist");
        List<Path> files = fashionImages(dir, 60);

        Model model = ServeFixture.fashionCnn();
        List<String> labels = ServeFixture.ZOO.pretrainedInfo(model.id()).orElseThrow().labels();
        List<Predictor.Input> inputs = new ArrayList<>();
        for (Path f : files) {
            ImageFiles.Decoded d = ImageFiles.read(f, 1);
            inputs.add(new Predictor.Input(f.toString(), d.planes(), d.conversion()));
        }
        List<Predictor.Prediction> expected;
        try (Predictor p = Predictor.open(model, ServeFixture.pretrained(model), labels, RuntimeOptions.cpu(1), 16)) {
            expected = p.predict(inputs, 5);
        }

        try (ModelServer server = ModelServer.start(List.of(ServeFixture.servedFashionCnn()), ServeFixture.options(), ServeFixture.ZOO,
                BenchFigures.none())) {
            URI classify = server.uri().resolve("v2/models/fashion-cnn/classify?top=5");
            // All at once, so that they are batched together as a loaded server batches them.
            List<CompletableFuture<ServeFixture.Reply>> replies = new ArrayList<>();
            ExecutorService clients = Executors.newFixedThreadPool(16);
            for (Path f : files) {
                byte[] bytes = Files.readAllBytes(f);
                String type = f.toString().endsWith(".jpg") ? "image/jpeg" : "image/png";
                replies.add(CompletableFuture.supplyAsync(() -> ServeFixture.post(classify, bytes, type), clients));
            }
            clients.shutdown();
            for (int i = 0; i < files.size(); i++) {
                ServeFixture.Reply r = replies.get(i).join();
                assertEquals(200, r.status(), r.body());
                JsonNode o = r.json();
                assertEquals("fashion-cnn", o.get("model_name").asText());
                JsonNode classes = o.get("classes");
                List<Predictor.Score> want = expected.get(i).top();
                assertEquals(5, classes.size());
                for (int k = 0; k < 5; k++) {
                    JsonNode c = classes.get(k);
                    assertEquals(want.get(k).index(), c.get("index").asInt(), files.get(i) + " rank " + (k + 1));
                    assertEquals(want.get(k).label(), c.get("label").asText());
                    assertEquals(want.get(k).probability(), c.get("probability").asDouble(), 1e-6, files.get(i) + " rank " + (k + 1));
                }
            }
        }
    }
}
