package dev.cnnzoo.training.data;

import dev.cnnzoo.api.ZooException;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Random changes to training images, as Géron's <i>Hands-On Machine Learning</i> (2nd ed., ch. 14)
 * describes AlexNet's: shifts (random
 * crops of a padded or larger image), horizontal flips, and lighting changes (Krizhevsky et al. 2012
 * §4.1: adding multiples of the RGB principal components, α ~ N(0, 0.1), with ImageNet's eigenvalues
 * and eigenvectors of the pixel covariance).
 */
public record Augmentation(Set<Kind> kinds, int shift) {
    /** Pixels a shift moves at most: 4, as for CIFAR-10's 32×32 images padded by 4 (He et al. 2015, §4.2). */
    public static final int DEFAULT_SHIFT = 4;

    public enum Kind {
        /** Shift by up to {@code shift} pixels, zero-filling (fixed-size data: MNIST, CIFAR-10). */
        SHIFT,
        /** A random crop of the resized image instead of the centre one (image folders). */
        CROP,
        /** Mirror left-right with probability ½. */
        FLIP,
        /** PCA lighting noise on RGB images. */
        LIGHTING
    }

    /** ImageNet's RGB eigenvalues and eigenvectors (columns), as fb.resnet.torch and AlexNet use. */
    private static final double[] EIGENVALUES = {0.2175, 0.0188, 0.0045};
    private static final double[][] EIGENVECTORS = {
        {-0.5675, 0.7192, 0.4009},
        {-0.5808, -0.0045, -0.8140},
        {-0.5836, -0.6948, 0.4203},
    };

    public Augmentation {
        kinds = kinds.isEmpty() ? EnumSet.noneOf(Kind.class) : EnumSet.copyOf(kinds);
    }

    public static Augmentation none() {
        return new Augmentation(Set.of(), 0);
    }

    /** These kinds of change; shifts move up to {@value #DEFAULT_SHIFT} pixels. */
    public static Augmentation of(Kind... kinds) {
        return new Augmentation(kinds.length == 0 ? Set.of() : EnumSet.of(kinds[0], kinds), DEFAULT_SHIFT);
    }

    /** "none", or a comma list of shift, crop, flip, lighting; shifts move up to {@value #DEFAULT_SHIFT} pixels. */
    public static Augmentation parse(String text) {
        return parse(text, DEFAULT_SHIFT);
    }

    /** "none", or a comma list of shift, crop, flip, lighting. */
    public static Augmentation parse(String text, int shift) {
        if (text == null || text.isBlank() || text.equalsIgnoreCase("none")) {
            return none();
        }
        EnumSet<Kind> kinds = EnumSet.noneOf(Kind.class);
        for (String part : text.split(",")) {
            try {
                kinds.add(Kind.valueOf(part.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new ZooException("unknown augmentation '" + part.trim() + "'; use none or a comma list of shift, crop, flip, lighting");
            }
        }
        return new Augmentation(kinds, shift);
    }

    /** The recipe the zoo uses for a format unless asked otherwise. */
    public static Augmentation defaultFor(Datasets.Format format) {
        return switch (format) {
            case IDX -> none();
            case CIFAR10 -> new Augmentation(EnumSet.of(Kind.SHIFT, Kind.FLIP), 4);
            case IMAGE_FOLDERS -> new Augmentation(EnumSet.of(Kind.CROP, Kind.FLIP, Kind.LIGHTING), 0);
        };
    }

    public boolean isNone() {
        return kinds.isEmpty();
    }

    /** The form {@link #parse(String)} reads: "none" or e.g. "shift,flip". */
    public String text() {
        return isNone() ? "none" : String.join(",", kinds.stream().map(k -> k.name().toLowerCase(Locale.ROOT)).toList());
    }

    /** Shifts, flips and relights a [c, h, w] image in place. */
    void apply(float[] img, int offset, int c, int h, int w, SplittableRandom r) {
        if (kinds.contains(Kind.SHIFT) && shift > 0) {
            int dy = r.nextInt(2 * shift + 1) - shift;
            int dx = r.nextInt(2 * shift + 1) - shift;
            shift(img, offset, c, h, w, dy, dx);
        }
        if (kinds.contains(Kind.FLIP) && r.nextBoolean()) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    int row = offset + (ch * h + y) * w;
                    for (int x = 0; x < w / 2; x++) {
                        float t = img[row + x];
                        img[row + x] = img[row + w - 1 - x];
                        img[row + w - 1 - x] = t;
                    }
                }
            }
        }
        if (kinds.contains(Kind.LIGHTING) && c == 3) {
            double[] alpha = {r.nextGaussian() * 0.1, r.nextGaussian() * 0.1, r.nextGaussian() * 0.1};
            for (int ch = 0; ch < 3; ch++) {
                double add = 0;
                for (int k = 0; k < 3; k++) {
                    add += EIGENVECTORS[ch][k] * alpha[k] * EIGENVALUES[k];
                }
                for (int i = 0; i < h * w; i++) {
                    img[offset + ch * h * w + i] += (float) add;
                }
            }
        }
    }

    private static void shift(float[] img, int offset, int c, int h, int w, int dy, int dx) {
        float[] copy = new float[c * h * w];
        System.arraycopy(img, offset, copy, 0, copy.length);
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                int sy = y - dy;
                for (int x = 0; x < w; x++) {
                    int sx = x - dx;
                    img[offset + (ch * h + y) * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? copy[(ch * h + sy) * w + sx] : 0f;
                }
            }
        }
    }
}
