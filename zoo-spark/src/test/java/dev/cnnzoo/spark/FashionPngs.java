package dev.cnnzoo.spark;

import dev.cnnzoo.training.data.Dataset;
import dev.cnnzoo.training.data.Datasets;
import dev.cnnzoo.training.data.Split;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/** Fashion-MNIST's test images as PNG files in a folder per class (named by the class index), from Debian's IDX files. */
public final class FashionPngs {
    /** Where tests keep them: written once per build folder (about 10 s), kept for later runs. */
    public static final Path FOLDER = Path.of("target", "fashion-mnist-test-png");

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
            // Through a temporary name: a run stopped mid-write must not leave a truncated PNG that later runs keep.
            Path partial = file.resolveSibling(file.getFileName() + ".partial");
            ImageIO.write(img, "png", partial.toFile());
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return dir;
    }

    /** Reads the CSV part files Spark wrote: path → class. */
    public static Map<String, Integer> classes(Path csvFolder) throws IOException {
        Map<String, Integer> m = new HashMap<>();
        try (Stream<Path> parts = Files.list(csvFolder)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().endsWith(".csv")).toList()) {
                List<String> lines = Files.readAllLines(part);
                List<String> header = List.of(lines.get(0).split(","));
                for (String line : lines.subList(1, lines.size())) {
                    String[] f = line.split(",", -1);
                    m.put(f[header.indexOf("path")].replaceFirst("^file:", ""), f[header.indexOf("class")].isEmpty() ? -1
                            : Integer.parseInt(f[header.indexOf("class")]));
                }
            }
        }
        return m;
    }

    /** Entry point for the benchmark: {@code FashionPngs DIR [COUNT]}. */
    public static void main(String[] args) throws IOException {
        write(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 10_000);
    }
}
