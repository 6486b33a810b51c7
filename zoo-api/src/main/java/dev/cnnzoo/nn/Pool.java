package dev.cnnzoo.nn;

/**
 * A pooling window: {@code Pool.of(3).stride(2)} is AlexNet's overlapping pooling. The stride
 * defaults to the window size (non-overlapping), as in Keras and PyTorch.
 */
public final class Pool {
    final int[] kernel;
    final int[] stride;
    final Padding padding;
    final boolean ceilMode;
    final boolean countIncludePad;

    private Pool(int[] kernel, int[] stride, Padding padding, boolean ceilMode, boolean countIncludePad) {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
    }

    public static Pool of(int... kernel) {
        Layers.requirePositive("pooling window", kernel);
        return new Pool(kernel.clone(), kernel.clone(), Padding.valid(), false, false);
    }

    public Pool stride(int... s) {
        Layers.requirePositive("stride", s);
        return new Pool(kernel, s.clone(), padding, ceilMode, countIncludePad);
    }

    public Pool padding(Padding p) {
        return new Pool(kernel, stride, p, ceilMode, countIncludePad);
    }

    public Pool pad(int... p) {
        return padding(Padding.symmetric(p));
    }

    public Pool same() {
        return padding(Padding.same());
    }

    /** Rounds the output size up, keeping a partial last window (Caffe's and torchvision GoogLeNet's pooling). */
    public Pool ceil() {
        return new Pool(kernel, stride, padding, true, countIncludePad);
    }

    /** Average pooling divides by the whole window, padding included (PyTorch's default, not TensorFlow's). */
    public Pool countIncludePad() {
        return new Pool(kernel, stride, padding, ceilMode, true);
    }

    @Override
    public String toString() {
        return java.util.Arrays.toString(kernel) + " stride " + java.util.Arrays.toString(stride) + " " + padding + (ceilMode ? " ceil" : "");
    }
}
