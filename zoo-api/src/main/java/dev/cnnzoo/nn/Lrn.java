package dev.cnnzoo.nn;

/**
 * Local response normalisation over neighbouring maps. Géron (<i>Hands-On Machine Learning</i>, 2nd ed.,
 * ch. 14) writes it as
 * b_i = a_i · (k + α·Σ_{j=i−r}^{i+r} a_j²)^(−β) with a depth radius r. ONNX's {@code LRN} takes the
 * window {@code size} = 2r+1 and divides its {@code alpha} by {@code size}
 * (b_i = a_i · (bias + alpha/size · Σ a_j²)^(−β)), so the text's α becomes {@code alpha = α·(2r+1)}.
 */
public final class Lrn {
    final int size;
    final float onnxAlpha;
    final float beta;
    final float bias;

    private Lrn(int size, float onnxAlpha, float beta, float bias) {
        this.size = size;
        this.onnxAlpha = onnxAlpha;
        this.beta = beta;
        this.bias = bias;
    }

    /** Géron's (and TensorFlow's) parameterisation: depth radius r, α applied to the plain sum. */
    public static Lrn ofRadius(int radius, double alpha, double beta, double k) {
        if (radius < 0) {
            throw new IllegalArgumentException("LRN depth radius must be ≥ 0, got " + radius);
        }
        int size = 2 * radius + 1;
        return new Lrn(size, (float) (alpha * size), (float) beta, (float) k);
    }

    /** Caffe's, PyTorch's and ONNX's parameterisation: window {@code size}, α divided by the window size. */
    public static Lrn ofSize(int size, double alpha, double beta, double k) {
        if (size < 1 || size % 2 == 0) {
            throw new IllegalArgumentException("LRN window size must be odd and positive, got " + size);
        }
        return new Lrn(size, (float) alpha, (float) beta, (float) k);
    }

    /** The ONNX {@code size} attribute. */
    public int size() {
        return size;
    }

    /** The ONNX {@code alpha} attribute. */
    public float onnxAlpha() {
        return onnxAlpha;
    }

    public float beta() {
        return beta;
    }

    public float bias() {
        return bias;
    }
}
