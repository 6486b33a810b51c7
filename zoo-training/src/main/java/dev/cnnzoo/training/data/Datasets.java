package dev.cnnzoo.training.data;

import dev.cnnzoo.api.ZooException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Opens a dataset folder, recognising its format. */
public final class Datasets {
    /** Where Debian's {@code dataset-fashion-mnist} package puts Fashion-MNIST. */
    public static final Path DEBIAN_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    private Datasets() {
    }

    /** Debian's Fashion-MNIST, where its package is installed: the data to use when none is named. */
    public static Optional<Path> installedDefault() {
        return Files.isDirectory(DEBIAN_FASHION_MNIST) ? Optional.of(DEBIAN_FASHION_MNIST) : Optional.empty();
    }

    /** {@link #installedDefault()}, or an error saying how to get it. */
    public static Path defaultFolder() {
        return installedDefault().orElseThrow(() -> new ZooException("no dataset folder named and " + DEBIAN_FASHION_MNIST
                + " does not exist (install Debian's dataset-fashion-mnist, or name a folder)"));
    }

    /** The kind of data in a folder. */
    public enum Format {
        IDX, CIFAR10, IMAGE_FOLDERS
    }

    public static Format detect(Path dir) {
        if (!Files.exists(dir)) {
            throw new ZooException("dataset folder " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new ZooException("dataset path " + dir + " is a file, not a folder");
        }
        if (IdxDataset.present(dir)) {
            return Format.IDX;
        }
        if (Cifar10Dataset.locate(dir) != null) {
            return Format.CIFAR10;
        }
        if (ImageFolderDataset.present(dir) || imageSplits(dir)) {
            return Format.IMAGE_FOLDERS;
        }
        throw new ZooException(dir + " holds neither IDX files (train-images-idx3-ubyte[.gz], t10k-...), CIFAR-10 binary batches "
                + "(data_batch_1.bin ... test_batch.bin) nor one folder of images per class (optionally under train/ and val/ or test/)");
    }

    private static boolean imageSplits(Path dir) {
        return Files.isDirectory(dir.resolve("train")) && ImageFolderDataset.present(dir.resolve("train"));
    }

    /**
     * A split of the dataset in {@code dir}. IDX and CIFAR-10 have fixed images; image folders are
     * resized to {@code resize} on the shorter side and centre-cropped to {@code size} (the model's
     * input), with {@code channels} channels. For image folders the test split is {@code test/} or
     * {@code val/} beside {@code train/}; a folder without splits has no test split (null).
     */
    public static Dataset open(Path dir, Split split, int channels, int size, int resize) {
        return switch (detect(dir)) {
            case IDX -> IdxDataset.open(dir, split);
            case CIFAR10 -> Cifar10Dataset.open(dir, split);
            case IMAGE_FOLDERS -> openFolders(dir, split, channels, size, resize);
        };
    }

    private static Dataset openFolders(Path dir, Split split, int channels, int size, int resize) {
        if (!imageSplits(dir)) {
            return split == Split.TRAIN ? ImageFolderDataset.open(dir, null, channels, size, resize) : null;
        }
        ImageFolderDataset train = ImageFolderDataset.open(dir.resolve("train"), null, channels, size, resize);
        if (split == Split.TRAIN) {
            return train;
        }
        for (String name : new String[] {"test", "val"}) {
            if (Files.isDirectory(dir.resolve(name))) {
                return ImageFolderDataset.open(dir.resolve(name), train.classes(), channels, size, resize);
            }
        }
        return null;
    }
}
