package dev.cnnzoo.runtime.image;

import dev.cnnzoo.api.ZooException;
import java.util.Locale;

/**
 * Resizing with an antialiasing filter, the one torchvision's {@code Resize} applies (to PIL images
 * through Pillow, to tensors with {@code antialias=True} through PyTorch's separable kernel, which
 * follows Pillow): every output pixel is a normalised weighted sum of the input pixels under a
 * filter centred on it, and when shrinking by a factor s the filter is stretched by s, so each
 * output pixel averages the s×s inputs it covers instead of sampling between two of them. AWT's
 * bilinear drawImage only ever reads the two nearest inputs, which aliases fine detail when the
 * image shrinks. The width is resampled first, then the height, in float arithmetic, as PyTorch does.
 */
public final class Resampling {
    /** The interpolation kernels, by the names torchvision gives them. */
    public enum Filter {
        /** The triangle (tent) filter, support 1. */
        BILINEAR(1) {
            @Override
            double weight(double x) {
                x = Math.abs(x);
                return x < 1 ? 1 - x : 0;
            }
        },
        /** Keys' cubic convolution with a = −0.5 (Pillow's and antialiased PyTorch's choice), support 2. */
        BICUBIC(2) {
            @Override
            double weight(double x) {
                final double a = -0.5;
                x = Math.abs(x);
                if (x < 1) {
                    return ((a + 2) * x - (a + 3)) * x * x + 1;
                }
                if (x < 2) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0;
            }
        };

        private final int support;

        Filter(int support) {
            this.support = support;
        }

        abstract double weight(double x);

        public static Filter parse(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ZooException("unknown interpolation '" + name + "'; the zoo resizes with bilinear or bicubic");
            }
        }
    }

    private Resampling() {
    }

    /** {@code image} resampled to {@code height}×{@code width}; the same image when the size is unchanged. */
    public static Planes resize(Planes image, int height, int width, Filter filter) {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("cannot resize to " + height + "×" + width);
        }
        Planes out = image;
        if (width != image.width()) {
            out = resizeWidth(out, width, taps(image.width(), width, filter));
        }
        if (height != image.height()) {
            out = resizeHeight(out, height, taps(image.height(), height, filter));
        }
        return out;
    }

    /**
     * torchvision's {@code Resize(size)} with an int size: the shorter side becomes {@code size},
     * the longer one ⌊size·long/short⌋.
     */
    public static Planes shorterSideTo(Planes image, int size, Filter filter) {
        int h = image.height();
        int w = image.width();
        if (w <= h) {
            return resize(image, (int) ((double) size * h / w), size, filter);
        }
        return resize(image, size, (int) ((double) size * w / h), filter);
    }

    /** For each output position along one axis: the first input it reads, how many, and their weights. */
    record Taps(int[] first, int[] count, float[] weights, int stride) {
    }

    /**
     * The filter taps for resampling {@code in} positions to {@code out}. Output i is centred at
     * input coordinate (i + ½)·in/out; the filter spans ±support·max(1, in/out) around it, its
     * argument scaled by min(1, out/in); the weights under it are normalised to sum to one, which
     * also handles the borders, where part of the filter falls outside the image.
     *
     * <p>The arithmetic is PyTorch's, in single precision: at coordinate 500 a float centre is off
     * by up to 3e-5 pixels, which moves the weights by more than the 1e-5 the zoo matches
     * torchvision to. (Pillow computes them in double; its 8-bit output hides the difference.)
     */
    static Taps taps(int in, int out, Filter filter) {
        float scale = (float) in / out;
        float support = (float) (filter.support * (scale >= 1 ? scale : 1.0));
        float invScale = scale >= 1 ? (float) (1.0 / scale) : 1f;
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[out];
        int[] count = new int[out];
        float[] weights = new float[out * stride];
        for (int i = 0; i < out; i++) {
            float center = (float) (scale * (i + 0.5));
            // Truncation toward zero, then clamping, as Pillow and PyTorch compute the window.
            int lo = Math.max((int) ((center - support) + 0.5), 0);
            int n = Math.min((int) ((center + support) + 0.5), in) - lo;
            float total = 0;
            for (int j = 0; j < n; j++) {
                float w = (float) filter.weight((float) ((((float) (j + lo)) - center + 0.5) * invScale));
                weights[i * stride + j] = w;
                total += w;
            }
            for (int j = 0; j < n; j++) {
                if (total != 0) {
                    weights[i * stride + j] /= total;
                }
            }
            first[i] = lo;
            count[i] = n;
        }
        return new Taps(first, count, weights, stride);
    }

    private static Planes resizeWidth(Planes src, int width, Taps taps) {
        int c = src.channels();
        int h = src.height();
        int inW = src.width();
        float[] a = src.values();
        float[] out = new float[c * h * width];
        for (int row = 0; row < c * h; row++) {
            int base = row * inW;
            for (int x = 0; x < width; x++) {
                int lo = taps.first()[x];
                int wi = x * taps.stride();
                float sum = a[base + lo] * taps.weights()[wi];
                for (int j = 1; j < taps.count()[x]; j++) {
                    sum += a[base + lo + j] * taps.weights()[wi + j];
                }
                out[row * width + x] = sum;
            }
        }
        return new Planes(c, h, width, out);
    }

    private static Planes resizeHeight(Planes src, int height, Taps taps) {
        int c = src.channels();
        int inH = src.height();
        int w = src.width();
        float[] a = src.values();
        float[] out = new float[c * height * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < height; y++) {
                int lo = taps.first()[y];
                int wi = y * taps.stride();
                int dst = (ch * height + y) * w;
                for (int x = 0; x < w; x++) {
                    float sum = a[(ch * inH + lo) * w + x] * taps.weights()[wi];
                    for (int j = 1; j < taps.count()[y]; j++) {
                        sum += a[(ch * inH + lo + j) * w + x] * taps.weights()[wi + j];
                    }
                    out[dst + x] = sum;
                }
            }
        }
        return new Planes(c, height, w, out);
    }
}
