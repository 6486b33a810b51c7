package dev.cnnzoo.training.data;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.image.ImageFiles;
import dev.cnnzoo.runtime.image.ImageTransform;
import dev.cnnzoo.runtime.image.Planes;
import dev.cnnzoo.runtime.image.Resampling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Images in one folder per class ({@code root/cat/001.jpg}, {@code root/dog/...}), torchvision's
 * {@code ImageFolder} layout, decoded and converted to the model's channels by {@link ImageFiles}
 * (JPEG, PNG, BMP, GIF, TIFF). Each image is resized so its shorter side is {@code resize}, with
 * torchvision's antialiased filter, then the centre {@code size}×{@code size} is kept (random crops,
 * for augmentation, are taken from the resized image by the loader): the pixels {@code zoo predict}
 * feeds the network for the same file.
 */
public final class ImageFolderDataset implements Dataset {

    private final String description;
    private final List<Path> files;
    private final int[] labels;
    private final List<String> classes;
    private final int channels;
    private final int size;
    private final int resize;

    private ImageFolderDataset(String description, List<Path> files, int[] labels, List<String> classes, int channels, int size, int resize) {
        this.description = description;
        this.files = files;
        this.labels = labels;
        this.classes = classes;
        this.channels = channels;
        this.size = size;
        this.resize = resize;
    }

    /** Whether {@code dir} has subfolders holding images. */
    static boolean present(Path dir) {
        try (Stream<Path> sub = Files.list(dir)) {
            return sub.filter(Files::isDirectory).anyMatch(ImageFolderDataset::holdsImages);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean holdsImages(Path dir) {
        try (Stream<Path> f = Files.list(dir)) {
            return f.anyMatch(ImageFolderDataset::isImage);
        } catch (IOException e) {
            return false;
        }
    }

    static boolean isImage(Path p) {
        return Files.isRegularFile(p) && ImageFiles.isImageName(p);
    }

    /**
     * Opens the class folders under {@code root}.
     *
     * @param classes the class names to use, in label order (the training split's), or null to take
     *                the sorted names of the folders that hold images: at least two, since one class
     *                leaves a classifier nothing to learn; folders without images are left out, and the
     *                description says so
     */
    public static ImageFolderDataset open(Path root, List<String> classes, int channels, int size, int resize) {
        List<String> names = classes;
        List<String> empty = List.of();
        if (names == null) {
            List<Path> folders;
            try (Stream<Path> sub = Files.list(root)) {
                folders = sub.filter(Files::isDirectory).sorted().toList();
            } catch (IOException e) {
                throw new ZooException("cannot list " + root + ": " + e.getMessage());
            }
            names = folders.stream().filter(ImageFolderDataset::holdsImages).map(p -> p.getFileName().toString()).toList();
            empty = folders.stream().filter(p -> !holdsImages(p)).map(p -> p.getFileName().toString()).toList();
            if (names.size() == 1) {
                throw new ZooException(root + " has one class folder with images ('" + names.get(0) + "'); a classifier needs at least two"
                        + (empty.isEmpty() ? "" : " (" + quoted(empty) + " hold(s) no images)"));
            }
        }
        if (names.isEmpty()) {
            throw new ZooException(root + " has no class folders with images in them");
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            Path dir = root.resolve(names.get(c));
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> f = Files.list(dir)) {
                for (Path p : f.filter(ImageFolderDataset::isImage).sorted().toList()) {
                    files.add(p);
                    labels.add(c);
                }
            } catch (IOException e) {
                throw new ZooException("cannot list " + dir + ": " + e.getMessage());
            }
        }
        if (files.isEmpty()) {
            throw new ZooException(root + " holds no images under the class folders " + names);
        }
        String note = empty.isEmpty() ? "" : "; left out, holding no images: " + quoted(empty);
        return new ImageFolderDataset("image folders " + root + " (" + names.size() + " classes" + note + ")", files,
                labels.stream().mapToInt(Integer::intValue).toArray(), List.copyOf(names), channels, size, resize);
    }

    private static String quoted(List<String> names) {
        return names.stream().map(n -> "'" + n + "'").collect(java.util.stream.Collectors.joining(", "));
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int height() {
        return size;
    }

    @Override
    public int width() {
        return size;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    /** The image resized so its shorter side is {@code resize}, as [channels, h, w] in [0, 1]. */
    public float[] resized(int index, int[] hw) {
        Planes p = Resampling.shorterSideTo(ImageFiles.read(files.get(index), channels).planes(), resize, Resampling.Filter.BILINEAR);
        hw[0] = p.height();
        hw[1] = p.width();
        return p.values();
    }

    @Override
    public void pixels(int index, float[] dst, int offset) {
        int[] hw = new int[2];
        float[] full = resized(index, hw);
        crop(full, channels, hw[0], hw[1], ImageTransform.centreOffset(hw[0], size), ImageTransform.centreOffset(hw[1], size), size, dst, offset);
    }

    /** Copies a size×size window at (top, left) of [c, h, w] planes into {@code dst}. */
    static void crop(float[] src, int c, int h, int w, int top, int left, int size, float[] dst, int offset) {
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < size; y++) {
                System.arraycopy(src, (ch * h + top + y) * w + left, dst, offset + (ch * size + y) * size, size);
            }
        }
    }
}
