package dev.cnnzoo.training.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Preprocessing;
import dev.cnnzoo.api.ZooException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir
    Path dir;

    @Test
    void idxReadsGzippedFilesAndChecksThem() throws IOException {
        Path data = SyntheticData.idx(dir.resolve("fashion"), 50, 20, 1);
        assertEquals(Datasets.Format.IDX, Datasets.detect(data));
        Dataset train = Datasets.open(data, Split.TRAIN, 1, 28, 28);
        assertEquals(50, train.size());
        assertEquals(IdxDataset.DIGITS, train.classes(), "thin strokes on black are digits, whatever the folder is called");
        float[] px = new float[784];
        train.pixels(3, px, 0);
        assertTrue(px[0] >= 0 && px[0] <= 1);
        assertEquals(20, Datasets.open(data, Split.TEST, 1, 28, 28).size());

        Files.write(data.resolve("t10k-labels-idx1-ubyte.gz"), new byte[] {1, 2, 3});
        assertTrue(assertThrows(ZooException.class, () -> Datasets.open(data, Split.TEST, 1, 28, 28)).getMessage()
                .contains("is not a valid gzip file"));
        Path other = SyntheticData.idx(dir.resolve("other"), 5, 5, 2);
        ByteBuffer bad = ByteBuffer.allocate(16).putInt(0x12345678).putInt(0).putInt(28).putInt(28);
        SyntheticData.gzip(other.resolve("t10k-images-idx3-ubyte.gz"), bad.array());
        assertTrue(assertThrows(ZooException.class, () -> IdxDataset.open(other, Split.TEST)).getMessage()
                .contains("not an IDX image file (magic 0x12345678, expected 0x00000803)"));
    }

    @Test
    void realFashionMnistWhereDebianInstalledIt() {
        if (!Files.isDirectory(Datasets.DEBIAN_FASHION_MNIST)) {
            return;
        }
        Dataset test = Datasets.open(Datasets.DEBIAN_FASHION_MNIST, Split.TEST, 1, 28, 28);
        assertEquals(10_000, test.size());
        assertEquals(9, test.label(0), "the first Fashion-MNIST test image is an ankle boot");
        assertEquals(60_000, Datasets.open(Datasets.DEBIAN_FASHION_MNIST, Split.TRAIN, 1, 28, 28).size());
    }

    @Test
    void cifarBatches() throws IOException {
        Path data = SyntheticData.cifar(dir.resolve("cifar"), 10, 2);
        assertEquals(Datasets.Format.CIFAR10, Datasets.detect(data));
        Dataset train = Datasets.open(data, Split.TRAIN, 3, 32, 32);
        assertEquals(50, train.size());
        assertEquals(3, train.channels());
        Files.write(data.resolve("cifar-10-batches-bin/data_batch_3.bin"), new byte[100]);
        assertTrue(assertThrows(ZooException.class, () -> Datasets.open(data, Split.TRAIN, 3, 32, 32)).getMessage()
                .contains("not a whole number of 3073-byte CIFAR-10 records"));
    }

    @Test
    void imageFoldersResizeCropAndConvertGrey() throws IOException {
        for (String split : new String[] {"train", "val"}) {
            for (String cls : new String[] {"cat", "dog"}) {
                Path d = Files.createDirectories(dir.resolve("pets").resolve(split).resolve(cls));
                BufferedImage img = new BufferedImage(40, 20, cls.equals("cat") ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_ARGB);
                img.setRGB(20, 10, 0xffffffff);
                ImageIO.write(img, "png", d.resolve("a.png").toFile());
            }
        }
        Files.writeString(dir.resolve("pets/train/cat/notes.txt"), "not an image");
        Path data = dir.resolve("pets");
        assertEquals(Datasets.Format.IMAGE_FOLDERS, Datasets.detect(data));
        Dataset train = Datasets.open(data, Split.TRAIN, 3, 16, 16);
        assertEquals(List.of("cat", "dog"), train.classes());
        assertEquals(2, train.size());
        float[] px = new float[3 * 16 * 16];
        train.pixels(0, px, 0);     // a grey PNG becomes three equal channels
        assertEquals(px[5], px[256 + 5], 1e-6);
        assertEquals(2, Datasets.open(data, Split.TEST, 3, 16, 16).size());

        Path broken = Files.createDirectories(dir.resolve("broken/x"));
        Files.writeString(broken.resolve("fake.png"), "not a png");
        Files.writeString(Files.createDirectories(dir.resolve("broken/y")).resolve("fake.png"), "not a png");
        Dataset b = Datasets.open(dir.resolve("broken"), Split.TRAIN, 3, 16, 16);
        assertTrue(assertThrows(ZooException.class, () -> b.pixels(0, px, 0)).getMessage().contains("fake.png"));
        assertNull(Datasets.open(dir.resolve("broken"), Split.TEST, 3, 16, 16), "no split folders, no test split");
    }

    @Test
    void fashionMnistIsToldFromMnistByItsPixelsNotItsFolderName() throws IOException {
        Path digits = SyntheticData.idx(dir.resolve("fashion-mnist"), 30, 10, 3);
        Dataset d = Datasets.open(digits, Split.TRAIN, 1, 28, 28);
        assertEquals(IdxDataset.DIGITS, d.classes());
        assertTrue(d.description().startsWith("MNIST train (" + digits + "; told from Fashion-MNIST by its mean pixel, 0.1"), d.description());

        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Datasets.DEBIAN_FASHION_MNIST), "Debian's dataset-fashion-mnist");
        Path data = Files.createDirectories(dir.resolve("data"));
        try (var files = Files.list(Datasets.DEBIAN_FASHION_MNIST)) {
            for (Path f : files.toList()) {
                Files.createSymbolicLink(data.resolve(f.getFileName()), f);
            }
        }
        Dataset fashion = Datasets.open(data, Split.TEST, 1, 28, 28);
        assertEquals(IdxDataset.FASHION_CLASSES, fashion.classes(), "Fashion-MNIST in a folder called data");
        assertTrue(fashion.description().contains("told from MNIST by its mean pixel, 0.28"), fashion.description());
    }

    @Test
    void oneClassFolderIsRefusedAndEmptyClassFoldersAreNamed() throws IOException {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        ImageIO.write(img, "png", Files.createDirectories(dir.resolve("one/cat")).resolve("a.png").toFile());
        Files.createDirectories(dir.resolve("one/dog"));
        String msg = assertThrows(ZooException.class, () -> Datasets.open(dir.resolve("one"), Split.TRAIN, 3, 8, 8)).getMessage();
        assertEquals(dir.resolve("one") + " has one class folder with images ('cat'); a classifier needs at least two ('dog' hold(s) no images)",
                msg);

        ImageIO.write(img, "png", Files.createDirectories(dir.resolve("one/bird")).resolve("b.png").toFile());
        Dataset d = Datasets.open(dir.resolve("one"), Split.TRAIN, 3, 8, 8);
        assertEquals(List.of("bird", "cat"), d.classes());
        assertEquals("image folders " + dir.resolve("one") + " (2 classes; left out, holding no images: 'dog')", d.description());
    }

    @Test
    void missingAndUnrecognisedFoldersAreNamed() throws IOException {
        assertEquals("dataset folder " + dir.resolve("nope") + " does not exist",
                assertThrows(ZooException.class, () -> Datasets.detect(dir.resolve("nope"))).getMessage());
        Files.createDirectories(dir.resolve("empty"));
        assertTrue(assertThrows(ZooException.class, () -> Datasets.detect(dir.resolve("empty"))).getMessage().contains("holds neither IDX"));
    }

    @Test
    void loaderIsDeterministicAndNormalises() throws IOException {
        Dataset d = Datasets.open(SyntheticData.idx(dir.resolve("d"), 64, 8, 3), Split.TRAIN, 1, 28, 28);
        Preprocessing pre = Preprocessing.grey(28, 0.5f, 0.25f);
        Augmentation aug = Augmentation.parse("shift,flip", 2);
        try (BatchLoader a = new BatchLoader(d, pre, aug, 16, 7, 2); BatchLoader b = new BatchLoader(d, pre, aug, 16, 7, 1)) {
            assertEquals(4, a.batchesPerEpoch());
            var first = a.training(1, 0).next();
            var again = b.training(1, 0).next();
            assertArrayEquals(first.labels(), again.labels());
            assertArrayEquals(first.images().floats(), again.images().floats(), 0f);
            // Resuming at batch 2 gives the same batch 2 as running through.
            var it = a.training(1, 0);
            it.next();
            it.next();
            assertArrayEquals(it.next().images().floats(), b.training(1, 2).next().images().floats(), 0f);
            // Normalised: (0 − 0.5)/0.25 = −2 is the lowest value a black pixel can take.
            for (float v : first.images().floats()) {
                assertTrue(v >= -2f && v <= 2f);
            }
        }
    }
}
