package dev.cnnzoo.testkit;

import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import java.util.SplittableRandom;

/** Seeded random tensors for tests. */
public final class TestTensors {
    private TestTensors() {
    }

    /** Uniform in [−1, 1), fixed by {@code seed}. */
    public static Tensor uniform(Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[Math.toIntExact(shape.elements())];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return Tensor.of(shape, a);
    }

    /** A batch of images for a model input of channels×height×width. */
    public static Tensor images(int batch, int channels, int height, int width, long seed) {
        return uniform(Shape.of(batch, channels, height, width), seed);
    }
}
