package dev.cnnzoo.training.data;

import dev.cnnzoo.graph.Tensor;
import java.util.List;

/** Labelled images, addressed by index; pixels in [0, 1], channels first. */
public interface Dataset {
    /** Where the data came from, for logs and checkpoints. */
    String description();

    int size();

    int channels();

    int height();

    int width();

    /** Class names, indexed by label. */
    List<String> classes();

    int label(int index);

    /** Writes image {@code index} (channels × height × width, values in [0, 1]) into {@code dst} at {@code offset}. */
    void pixels(int index, float[] dst, int offset);

    /**
     * Images held in memory: {@code images} is N×C×H×W with values in [0, 1], {@code labels} the
     * class index of each, {@code classes} the class names by index.
     */
    static Dataset of(String description, List<String> classes, Tensor images, int[] labels) {
        return new TensorDataset(description, classes, images, labels);
    }

    /** The first {@code n} images only (smoke runs, tests). */
    default Dataset limit(int n) {
        return n >= size() ? this : slice(0, n);
    }

    /** Images {@code [from, to)} (a replica's share of a split, say), indexed from 0. */
    default Dataset slice(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IllegalArgumentException("images " + from + " to " + to + " of " + size());
        }
        Dataset base = this;
        return new Dataset() {
            @Override
            public String description() {
                return base.description() + (from == 0 ? " (first " + to + ")" : " (images " + from + " to " + to + ")");
            }

            @Override
            public int size() {
                return to - from;
            }

            @Override
            public int channels() {
                return base.channels();
            }

            @Override
            public int height() {
                return base.height();
            }

            @Override
            public int width() {
                return base.width();
            }

            @Override
            public List<String> classes() {
                return base.classes();
            }

            @Override
            public int label(int index) {
                return base.label(from + index);
            }

            @Override
            public void pixels(int index, float[] dst, int offset) {
                base.pixels(from + index, dst, offset);
            }
        };
    }
}
