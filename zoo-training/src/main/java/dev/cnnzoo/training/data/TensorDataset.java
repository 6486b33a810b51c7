package dev.cnnzoo.training.data;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Tensor;
import java.util.List;

/** Labelled images held in memory as one N×C×H×W tensor: what {@link Dataset#of} returns. */
final class TensorDataset implements Dataset {
    private final String description;
    private final List<String> classes;
    private final float[] pixels;
    private final int[] labels;
    private final int channels;
    private final int height;
    private final int width;

    TensorDataset(String description, List<String> classes, Tensor images, int[] labels) {
        if (images.shape().rank() != 4 || !images.isFloating()) {
            throw new ZooException(description + ": images must be a float N×C×H×W tensor, got " + images);
        }
        int n = images.shape().dim(0);
        if (labels.length != n) {
            throw new ZooException(description + " has " + n + " images but " + labels.length + " labels");
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes.size()) {
                throw new ZooException(description + ": image " + i + " has label " + labels[i] + ", outside the " + classes.size()
                        + " classes");
            }
        }
        this.description = description;
        this.classes = List.copyOf(classes);
        this.pixels = images.floats();
        this.labels = labels.clone();
        this.channels = images.shape().dim(1);
        this.height = images.shape().dim(2);
        this.width = images.shape().dim(3);
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public int size() {
        return labels.length;
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
        return classes;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public void pixels(int index, float[] dst, int offset) {
        int n = channels * height * width;
        System.arraycopy(pixels, index * n, dst, offset, n);
    }
}
