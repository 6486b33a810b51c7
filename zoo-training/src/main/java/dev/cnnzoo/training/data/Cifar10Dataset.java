package dev.cnnzoo.training.data;

import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CIFAR-10's binary batches ({@code data_batch_1.bin} … {@code data_batch_5.bin}, {@code test_batch.bin}):
 * records of one label byte and 3×32×32 pixel bytes, red plane first.
 */
public final class Cifar10Dataset implements Dataset {
    private static final int RECORD = 1 + 3 * 32 * 32;
    static final List<String> CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    private final String description;
    private final byte[] data;
    private final int count;
    private final List<String> classes;

    private Cifar10Dataset(String description, byte[] data, List<String> classes) {
        this.description = description;
        this.data = data;
        this.count = data.length / RECORD;
        this.classes = classes;
    }

    /** The folder holding the batches: {@code dir} or its {@code cifar-10-batches-bin} subfolder; null if neither. */
    static Path locate(Path dir) {
        for (Path p : new Path[] {dir, dir.resolve("cifar-10-batches-bin")}) {
            if (Files.isRegularFile(p.resolve("data_batch_1.bin")) || Files.isRegularFile(p.resolve("test_batch.bin"))) {
                return p;
            }
        }
        return null;
    }

    public static Cifar10Dataset open(Path dir, Split split) {
        Path root = locate(dir);
        if (root == null) {
            throw new ZooException(dir + " holds no CIFAR-10 binary batches (data_batch_1.bin … test_batch.bin)");
        }
        List<Path> files = new ArrayList<>();
        if (split == Split.TRAIN) {
            for (int i = 1; i <= 5; i++) {
                Path f = root.resolve("data_batch_" + i + ".bin");
                if (!Files.isRegularFile(f)) {
                    throw new ZooException(root + " lacks " + f.getFileName() + " of CIFAR-10's training batches");
                }
                files.add(f);
            }
        } else {
            files.add(root.resolve("test_batch.bin"));
        }
        try {
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            for (Path f : files) {
                if (!Files.isRegularFile(f)) {
                    throw new ZooException(root + " lacks " + f.getFileName());
                }
                byte[] b = Files.readAllBytes(f);
                if (b.length % RECORD != 0) {
                    throw new ZooException(f + " is " + b.length + " bytes, not a whole number of " + RECORD + "-byte CIFAR-10 records");
                }
                all.write(b);
            }
            byte[] data = all.toByteArray();
            for (int i = 0; i < data.length; i += RECORD) {
                if ((data[i] & 0xff) > 9) {
                    throw new ZooException("CIFAR-10 record " + (i / RECORD) + " in " + root + " has label " + (data[i] & 0xff));
                }
            }
            List<String> classes = CLASSES;
            Path meta = root.resolve("batches.meta.txt");
            if (Files.isRegularFile(meta)) {
                List<String> names = Files.readAllLines(meta).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
                if (names.size() == 10) {
                    classes = names;
                }
            }
            return new Cifar10Dataset("CIFAR-10 " + split.name().toLowerCase() + " (" + root + ")", data, classes);
        } catch (IOException e) {
            throw new ZooException("cannot read CIFAR-10 from " + root + ": " + e.getMessage());
        }
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int height() {
        return 32;
    }

    @Override
    public int width() {
        return 32;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public int label(int index) {
        return data[index * RECORD] & 0xff;
    }

    @Override
    public void pixels(int index, float[] dst, int offset) {
        int base = index * RECORD + 1;
        for (int i = 0; i < 3 * 32 * 32; i++) {
            dst[offset + i] = (data[base + i] & 0xff) / 255f;
        }
    }
}
