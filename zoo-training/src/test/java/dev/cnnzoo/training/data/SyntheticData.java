package dev.cnnzoo.training.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/** Small datasets written in the real formats, for tests: each class draws a bright bar at its own place. */
public final class SyntheticData {
    private SyntheticData() {
    }

    /** An IDX dataset (gzipped) of {@code train} and {@code test} 28×28 images over 10 classes. */
    public static Path idx(Path dir, int train, int test, long seed) throws IOException {
        Files.createDirectories(dir);
        writeIdx(dir, "train", train, seed);
        writeIdx(dir, "t10k", test, seed + 1);
        return dir;
    }

    private static void writeIdx(Path dir, String prefix, int n, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        ByteBuffer images = ByteBuffer.allocate(16 + n * 784).putInt(IdxDataset.IMAGES_MAGIC).putInt(n).putInt(28).putInt(28);
        ByteBuffer labels = ByteBuffer.allocate(8 + n).putInt(IdxDataset.LABELS_MAGIC).putInt(n);
        for (int i = 0; i < n; i++) {
            int label = r.nextInt(10);
            labels.put((byte) label);
            byte[] img = new byte[784];
            for (int p = 0; p < 784; p++) {
                img[p] = (byte) r.nextInt(60);
            }
            int row = 2 + label * 2 + r.nextInt(2);   // rows 2k+2 and 2k+3: no two classes share one
            for (int x = 4; x < 24; x++) {
                img[row * 28 + x] = (byte) (200 + r.nextInt(55));
            }
            images.put(img);
        }
        gzip(dir.resolve(prefix + "-images-idx3-ubyte.gz"), images.array());
        gzip(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), labels.array());
    }

    static void gzip(Path file, byte[] data) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(data);
        }
    }

    /** CIFAR-10 batches of random 3×32×32 images: five training batches of {@code perBatch} and a test batch. */
    public static Path cifar(Path dir, int perBatch, long seed) throws IOException {
        Path root = Files.createDirectories(dir.resolve("cifar-10-batches-bin"));
        SplittableRandom r = new SplittableRandom(seed);
        for (String name : new String[] {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"}) {
            byte[] b = new byte[perBatch * 3073];
            r.nextBytes(b);
            for (int i = 0; i < perBatch; i++) {
                b[i * 3073] = (byte) r.nextInt(10);
            }
            Files.write(root.resolve(name + ".bin"), b);
        }
        return dir;
    }
}
