package dev.cnnzoo.api;

import java.util.Arrays;

/**
 * How an image becomes the network's input: resize the shorter side to {@code resize}, crop the
 * centre {@code crop}×{@code crop}, scale pixels to [0, 1], then subtract {@code mean} and divide by
 * {@code std} per channel. {@code resize} equal to {@code crop} means a plain resize.
 */
public record Preprocessing(int resize, int crop, float[] mean, float[] std, String interpolation) {
    /** torchvision's ImageNet recipe: 256 → 224 centre crop, ImageNet mean and std. */
    public static Preprocessing imagenet(int resize, int crop) {
        return new Preprocessing(resize, crop, new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f},
                "bilinear");
    }

    /** Inception's recipe: pixels scaled to [−1, 1] (mean 0.5, std 0.5). */
    public static Preprocessing inception(int resize, int crop) {
        return new Preprocessing(resize, crop, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f}, "bilinear");
    }

    /** One grey channel at its native size with the given statistics. */
    public static Preprocessing grey(int size, float mean, float std) {
        return new Preprocessing(size, size, new float[] {mean}, new float[] {std}, "bilinear");
    }

    /**
     * The recipe for a network built for a {@code height}×{@code width} input instead of its
     * default: the crop becomes the input's shorter side and the resize scales with it (a 256 → 224
     * recipe at 112×112 resizes to 128; LeNet's 28 → 28 at 32×32 is 32 → 32).
     */
    public Preprocessing forInput(int height, int width) {
        int c = Math.min(height, width);
        int r = Math.max(c, (int) ((long) resize * c / crop));
        return c == crop && r == resize ? this : new Preprocessing(r, c, mean, std, interpolation);
    }

    public int channels() {
        return mean.length;
    }

    /** The recipe as a map (the JSON of the ONNX metadata's {@code zoo.preprocessing}). */
    public java.util.Map<String, Object> describe() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("resize", resize);
        m.put("crop", crop);
        m.put("mean", mean);
        m.put("std", std);
        m.put("interpolation", interpolation);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocessing p && resize == p.resize && crop == p.crop && Arrays.equals(mean, p.mean)
                && Arrays.equals(std, p.std) && interpolation.equals(p.interpolation);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * resize + crop) + Arrays.hashCode(mean);
    }

    @Override
    public String toString() {
        return "resize " + resize + ", crop " + crop + ", mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std);
    }
}
