package dev.cnnzoo.spark;

import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Fashion-MNIST's test images as PNG files in a folder per class (named by the class index), from Debian's IDX files. */
public final class FashionPngs {
    private FashionPngs() {
    }

    /** Whether Debian's dataset-fashion-mnist is installed. */
    public static boolean available() {
        return Files.isDirectory(Datasets.DEBIAN_FASHION_MNIST);
    }

    /** Writes the first {@code count} test images as {@code dir/<class>/<index>.png} (skipped when already there); returns dir. */
    public static Path write(Path dir, int count) throws IOException {
        Dataset test = Datasets.open(Datasets.DEBIAN_FASHION_MNIST, Split.TEST, 1, 28, 28);
        float[] pixels = new float[28 * 28];
        for (int i = 0; i < Math.min(count, test.size()); i++) {
            Path file = dir.resolve(Integer.toString(test.label(i))).resolve(String.format("%05d.png", i));
            if (Files.exists(file)) {
                continue;
            }
            Files.createDirectories(file.getParent());
            test.pixels(i, pixels, 0);
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int p = 0; p < pixels.length; p++) {
                img.getRaster().setSample(p % 28, p / 28, 0, Math.round(pixels[p] * 255));
            }
            ImageIO.write(img, "png", file.toFile());
        }
        return dir;
    }

    /** Entry point for the benchmark: {@code FashionPngs DIR [COUNT]}. */
    public static void main(String[] args) throws IOException {
        write(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 10_000);
    }
}
