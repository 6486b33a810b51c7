package dev.cnnzoo.training.data;

import dev.cnnzoo.api.ZooException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Images in one folder per class ({@code root/cat/001.jpg}, {@code root/dog/...}), torchvision's
 * {@code ImageFolder} layout, decoded with the JDK's ImageIO (JPEG, PNG, BMP, GIF). Each image is
 * resized so its shorter side is {@code resize}, then the centre {@code size}×{@code size} is kept
 * (random crops, for augmentation, are taken from the resized image by the loader). Grey images are
 * replicated to three channels and transparency is dropped, so every image has the model's channels.
 */
public final class ImageFolderDataset implements Dataset {
    private static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".bmp", ".gif");

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
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    /**
     * Opens the class folders under {@code root}.
     *
     * @param classes the class names to use, in label order (the training split's), or null to take
     *                the sorted folder names
     */
    public static ImageFolderDataset open(Path root, List<String> classes, int channels, int size, int resize) {
        List<String> names = classes;
        if (names == null) {
            try (Stream<Path> sub = Files.list(root)) {
                names = sub.filter(Files::isDirectory).filter(ImageFolderDataset::holdsImages)
                        .map(p -> p.getFileName().toString()).sorted().toList();
            } catch (IOException e) {
                throw new ZooException("cannot list " + root + ": " + e.getMessage());
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
        return new ImageFolderDataset("image folders " + root + " (" + names.size() + " classes)", files,
                labels.stream().mapToInt(Integer::intValue).toArray(), List.copyOf(names), channels, size, resize);
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
        BufferedImage img = decode(files.get(index));
        double scale = (double) resize / Math.min(img.getWidth(), img.getHeight());
        int w = Math.max(resize, (int) Math.round(img.getWidth() * scale));
        int h = Math.max(resize, (int) Math.round(img.getHeight() * scale));
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        hw[0] = h;
        hw[1] = w;
        return planes(out, channels);
    }

    @Override
    public void pixels(int index, float[] dst, int offset) {
        int[] hw = new int[2];
        float[] full = resized(index, hw);
        crop(full, channels, hw[0], hw[1], (hw[0] - size) / 2, (hw[1] - size) / 2, size, dst, offset);
    }

    /** Copies a size×size window at (top, left) of [c, h, w] planes into {@code dst}. */
    static void crop(float[] src, int c, int h, int w, int top, int left, int size, float[] dst, int offset) {
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < size; y++) {
                System.arraycopy(src, (ch * h + top + y) * w + left, dst, offset + (ch * size + y) * size, size);
            }
        }
    }

    static BufferedImage decode(Path file) {
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) {
                throw new ZooException(file + " is not an image ImageIO can decode (JPEG, PNG, BMP or GIF)");
            }
            return img;
        } catch (IOException e) {
            throw new ZooException("cannot decode " + file + ": " + e.getMessage());
        }
    }

    /** RGB planes in [0, 1]; one grey plane (ITU-R 601 luma) when {@code channels} is 1. */
    static float[] planes(BufferedImage img, int channels) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        float[] out = new float[channels * h * w];
        for (int i = 0; i < rgb.length; i++) {
            float r = ((rgb[i] >> 16) & 0xff) / 255f;
            float g = ((rgb[i] >> 8) & 0xff) / 255f;
            float b = (rgb[i] & 0xff) / 255f;
            if (channels == 1) {
                out[i] = 0.299f * r + 0.587f * g + 0.114f * b;
            } else {
                out[i] = r;
                out[h * w + i] = g;
                out[2 * h * w + i] = b;
            }
        }
        return out;
    }
}
