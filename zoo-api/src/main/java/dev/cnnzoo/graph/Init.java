package dev.cnnzoo.graph;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * How a parameter's first values are drawn. Fan-in and fan-out follow PyTorch's convention:
 * for a weight of shape [out, in, k...] fan-in is in·∏k and fan-out is out·∏k.
 */
@FunctionalInterface
public interface Init {
    /** Fills a new array for a tensor of {@code shape}. */
    float[] sample(Shape shape, RandomGenerator random);

    static Init zeros() {
        return constant(0f);
    }

    static Init ones() {
        return constant(1f);
    }

    static Init constant(float value) {
        return (shape, random) -> {
            float[] a = new float[Math.toIntExact(shape.elements())];
            Arrays.fill(a, value);
            return a;
        };
    }

    static Init normal(double std) {
        return (shape, random) -> {
            float[] a = new float[Math.toIntExact(shape.elements())];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (random.nextGaussian() * std);
            }
            return a;
        };
    }

    /** Normal with draws beyond two standard deviations redrawn (TensorFlow's and timm's truncation). */
    static Init truncatedNormal(double std) {
        return (shape, random) -> {
            float[] a = new float[Math.toIntExact(shape.elements())];
            for (int i = 0; i < a.length; i++) {
                double g;
                do {
                    g = random.nextGaussian();
                } while (Math.abs(g) > 2);
                a[i] = (float) (g * std);
            }
            return a;
        };
    }

    static Init uniform(double low, double high) {
        return (shape, random) -> {
            float[] a = new float[Math.toIntExact(shape.elements())];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (low + random.nextDouble() * (high - low));
            }
            return a;
        };
    }

    /** He et al. 2015 normal init, std = sqrt(2 / fan) (torchvision's kaiming_normal_). */
    static Init heNormal(boolean fanOut) {
        return (shape, random) -> normal(Math.sqrt(2.0 / (fanOut ? fanOut(shape) : fanIn(shape)))).sample(shape, random);
    }

    /** He uniform on fan-in, bound sqrt(6 / fan_in). */
    static Init heUniform() {
        return (shape, random) -> {
            double bound = Math.sqrt(6.0 / fanIn(shape));
            return uniform(-bound, bound).sample(shape, random);
        };
    }

    /** Glorot and Bengio 2010 uniform, bound sqrt(6 / (fan_in + fan_out)) (Keras's default). */
    static Init glorotUniform() {
        return (shape, random) -> {
            double bound = Math.sqrt(6.0 / (fanIn(shape) + fanOut(shape)));
            return uniform(-bound, bound).sample(shape, random);
        };
    }

    /** PyTorch's default for Conv and Linear weights: uniform ±1/sqrt(fan_in). */
    static Init pytorchDefault() {
        return (shape, random) -> {
            double bound = 1.0 / Math.sqrt(fanIn(shape));
            return uniform(-bound, bound).sample(shape, random);
        };
    }

    static long fanIn(Shape shape) {
        if (shape.rank() < 2) {
            return Math.max(1, shape.rank() == 1 ? shape.dim(0) : 1);
        }
        return shape.dim(1) * receptiveField(shape);
    }

    static long fanOut(Shape shape) {
        if (shape.rank() < 2) {
            return Math.max(1, shape.rank() == 1 ? shape.dim(0) : 1);
        }
        return shape.dim(0) * receptiveField(shape);
    }

    private static long receptiveField(Shape shape) {
        long r = 1;
        for (int i = 2; i < shape.rank(); i++) {
            r *= shape.dim(i);
        }
        return r;
    }
}
