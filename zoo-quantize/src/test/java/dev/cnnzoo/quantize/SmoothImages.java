package dev.cnnzoo.quantize;

import dev.cnnzoo.training.data.Dataset;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Images like photographs in their statistics, not their content: a few random low-frequency
 * waves per channel plus pixel noise, in [0, 1]. Image i of a seed is always the same image, so
 * two seeds give calibration images and test images from one distribution.
 */
final class SmoothImages implements Dataset {
    private final int count;
    private final int channels;
    private final int height;
    private final int width;
    private final long seed;

    SmoothImages(int count, int channels, int height, int width, long seed) {
        this.count = count;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.seed = seed;
    }

    @Override
    public String description() {
        return "smooth random images (seed " + seed + ")";
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public List<String> classes() {
        return List.of("any");
    }

    @Override
    public int label(int index) {
        return 0;
    }

    @Override
    public void pixels(int index, float[] dst, int offset) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003 + index);
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            double base = 0.2 + 0.6 * r.nextDouble();
            double[][] waves = new double[4][];
            for (int k = 0; k < waves.length; k++) {
                waves[k] = new double[] {r.nextDouble() * 6 / height, r.nextDouble() * 6 / width, r.nextDouble() * 2 * Math.PI, 0.1 * r.nextDouble()};
            }
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    double v = base + 0.03 * r.nextGaussian();
                    for (double[] w : waves) {
                        v += w[3] * Math.cos(2 * Math.PI * (w[0] * y + w[1] * x) + w[2]);
                    }
                    dst[offset + c * plane + y * width + x] = (float) Math.max(0, Math.min(1, v));
                }
            }
        }
    }
}
