package dev.cnnzoo.training.data;

import dev.cnnzoo.graph.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

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
        int[] range = new int[to - from];
        Arrays.setAll(range, i -> from + i);
        return subset(range, from == 0 ? "first " + to : "images " + from + " to " + to);
    }

    /**
     * {@code n} images drawn at random without replacement (fixed by {@code seed}), in index order: a
     * sample that spans every class even where the images are stored class by class (image folders).
     */
    default Dataset sample(int n, long seed) {
        if (n >= size()) {
            return this;
        }
        int[] all = new int[size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {            // the first n of a Fisher-Yates shuffle
            int j = i + r.nextInt(all.length - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        int[] chosen = Arrays.copyOf(all, n);
        Arrays.sort(chosen);
        return subset(chosen, n + " drawn at random, seed " + seed);
    }

    /** The images at {@code indices}, described as {@code how} (e.g. "first 100"). */
    default Dataset subset(int[] indices, String how) {
        Dataset base = this;
        int[] at = indices.clone();
        return new Dataset() {
            @Override
            public String description() {
                return base.description() + " (" + how + ")";
            }

            @Override
            public int size() {
                return at.length;
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
                return base.label(at[index]);
            }

            @Override
            public void pixels(int index, float[] dst, int offset) {
                base.pixels(at[index], dst, offset);
            }
        };
    }
}
