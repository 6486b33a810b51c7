package dev.cnnzoo.training.data;

import dev.cnnzoo.api.ZooException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * MNIST and Fashion-MNIST in LeCun's IDX format ({@code train-images-idx3-ubyte},
 * {@code train-labels-idx1-ubyte}, {@code t10k-...}, gzipped or not): unsigned bytes, images
 * 28×28 grey.
 */
public final class IdxDataset implements Dataset {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;
    /** Fashion-MNIST's classes (Xiao, Rasul and Vollgraf 2017). */
    public static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot");
    static final List<String> DIGITS = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
    /**
     * Fashion-MNIST and MNIST share the format, size and class count; their pixels tell them apart. A
     * digit's strokes cover about a fifth of its image, a garment about half of its: the mean pixel is
     * 0.1307 (MNIST) and 0.2860 (Fashion-MNIST) over the training images, 0.1325 and 0.2868 over the
     * test images (the normalisation constants torchvision's recipes use). Between the two lies 0.21.
     */
    static final double FASHION_MEAN_ABOVE = 0.21;

    private final String description;
    private final byte[] images;
    private final byte[] labels;
    private final int count;
    private final int rows;
    private final int cols;
    private final List<String> classes;

    private IdxDataset(String description, byte[] images, byte[] labels, int count, int rows, int cols, List<String> classes) {
        this.description = description;
        this.images = images;
        this.labels = labels;
        this.count = count;
        this.rows = rows;
        this.cols = cols;
        this.classes = classes;
    }

    /** Whether {@code dir} holds IDX files. */
    static boolean present(Path dir) {
        return find(dir, "train-images-idx3-ubyte") != null || find(dir, "t10k-images-idx3-ubyte") != null;
    }

    public static IdxDataset open(Path dir, Split split) {
        String prefix = split == Split.TRAIN ? "train" : "t10k";
        Path imageFile = find(dir, prefix + "-images-idx3-ubyte");
        Path labelFile = find(dir, prefix + "-labels-idx1-ubyte");
        if (imageFile == null || labelFile == null) {
            throw new ZooException(dir + " lacks " + prefix + "-images-idx3-ubyte[.gz] or " + prefix + "-labels-idx1-ubyte[.gz] for the "
                    + split.name().toLowerCase() + " split");
        }
        byte[] img = read(imageFile);
        byte[] lab = read(labelFile);
        ByteBuffer ib = ByteBuffer.wrap(img);
        ByteBuffer lb = ByteBuffer.wrap(lab);
        if (img.length < 16 || ib.getInt(0) != IMAGES_MAGIC) {
            throw new ZooException(imageFile + " is not an IDX image file (magic " + (img.length < 4 ? "missing" : String.format("0x%08x", ib.getInt(0)))
                    + ", expected 0x00000803)");
        }
        if (lab.length < 8 || lb.getInt(0) != LABELS_MAGIC) {
            throw new ZooException(labelFile + " is not an IDX label file (magic " + (lab.length < 4 ? "missing" : String.format("0x%08x", lb.getInt(0)))
                    + ", expected 0x00000801)");
        }
        int n = ib.getInt(4);
        int rows = ib.getInt(8);
        int cols = ib.getInt(12);
        if (img.length != 16L + (long) n * rows * cols) {
            throw new ZooException(imageFile + " declares " + n + " images of " + rows + "×" + cols + " but holds " + (img.length - 16) + " bytes of pixels");
        }
        if (lb.getInt(4) != n || lab.length != 8 + n) {
            throw new ZooException(labelFile + " has " + lb.getInt(4) + " labels for " + n + " images in " + imageFile);
        }
        double mean = meanPixel(img, 16);
        List<String> classes = mean > FASHION_MEAN_ABOVE ? FASHION_CLASSES : DIGITS;
        for (int i = 0; i < n; i++) {
            int l = lab[8 + i] & 0xff;
            if (l >= classes.size()) {
                throw new ZooException(labelFile + " has label " + l + " at " + i + "; IDX datasets have 10 classes");
            }
        }
        boolean fashion = classes == FASHION_CLASSES;
        String name = (fashion ? "Fashion-MNIST " : "MNIST ") + split.name().toLowerCase() + " (" + dir
                + String.format(java.util.Locale.ROOT, "; told from %s by its mean pixel, %.3f)", fashion ? "MNIST" : "Fashion-MNIST", mean);
        return new IdxDataset(name, img, lab, n, rows, cols, classes);
    }

    /** The mean of the bytes from {@code offset}, scaled to [0, 1]. */
    static double meanPixel(byte[] data, int offset) {
        long sum = 0;
        for (int i = offset; i < data.length; i++) {
            sum += data[i] & 0xff;
        }
        return data.length > offset ? sum / 255.0 / (data.length - offset) : 0;
    }

    private static Path find(Path dir, String base) {
        for (String candidate : new String[] {base, base + ".gz", base.replace("-idx", ".idx"), base.replace("-idx", ".idx") + ".gz"}) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static byte[] read(Path file) {
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (java.util.zip.ZipException e) {
            throw new ZooException(file + " is not a valid gzip file: " + e.getMessage());
        } catch (java.io.EOFException e) {
            throw new ZooException(file + " is not a valid gzip file: it ends too early");
        } catch (IOException e) {
            throw new ZooException("cannot read " + file + ": " + e.getMessage());
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
        return 1;
    }

    @Override
    public int height() {
        return rows;
    }

    @Override
    public int width() {
        return cols;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public int label(int index) {
        return labels[8 + index] & 0xff;
    }

    @Override
    public void pixels(int index, float[] dst, int offset) {
        int size = rows * cols;
        int base = 16 + index * size;
        for (int i = 0; i < size; i++) {
            dst[offset + i] = (images[base + i] & 0xff) / 255f;
        }
    }
}
