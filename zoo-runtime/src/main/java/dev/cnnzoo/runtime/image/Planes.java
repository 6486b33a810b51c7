package dev.cnnzoo.runtime.image;

/**
 * An image as channel planes, channels first (C×H×W), values in [0, 1] after decoding: the layout
 * torchvision's {@code ToTensor} produces and the zoo's networks take.
 */
public record Planes(int channels, int height, int width, float[] values) {
    public Planes {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("an image needs at least one channel and pixel, got " + channels + "×" + height + "×" + width);
        }
        if (values.length != channels * height * width) {
            throw new IllegalArgumentException(values.length + " values cannot be " + channels + "×" + height + "×" + width);
        }
    }

    public float get(int c, int y, int x) {
        return values[(c * height + y) * width + x];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Planes p && channels == p.channels && height == p.height && width == p.width
                && java.util.Arrays.equals(values, p.values);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(channels, height, width, java.util.Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        return "Planes(" + channels + "×" + height + "×" + width + ")";
    }
}
