package dev.cnnzoo.nn;

import java.util.Arrays;

/**
 * How a convolution or pooling window treats the border. Shapes are static, so every form is
 * resolved to explicit ONNX {@code pads} when the layer is built (no {@code auto_pad}).
 */
public final class Padding {
    private enum Kind { VALID, SAME, EXPLICIT }

    private static final Padding VALID = new Padding(Kind.VALID, null, null);
    private static final Padding SAME = new Padding(Kind.SAME, null, null);

    private final Kind kind;
    private final int[] begin;
    private final int[] end;

    private Padding(Kind kind, int[] begin, int[] end) {
        this.kind = kind;
        this.begin = begin;
        this.end = end;
    }

    /** No padding: windows stay inside the input. */
    public static Padding valid() {
        return VALID;
    }

    /**
     * TensorFlow's SAME: the output is ceil(input / stride) and the padding needed for it is split
     * evenly, the odd pixel going at the end.
     */
    public static Padding same() {
        return SAME;
    }

    /** The same padding on both sides; one value for every axis or one per spatial axis. */
    public static Padding symmetric(int... pads) {
        return new Padding(Kind.EXPLICIT, pads.clone(), pads.clone());
    }

    /** Different padding at the start and the end of each spatial axis. */
    public static Padding explicit(int[] begin, int[] end) {
        if (begin.length != end.length) {
            throw new IllegalArgumentException("padding begin " + Arrays.toString(begin) + " and end " + Arrays.toString(end) + " differ in length");
        }
        return new Padding(Kind.EXPLICIT, begin.clone(), end.clone());
    }

    boolean isSame() {
        return kind == Kind.SAME;
    }

    /** ONNX pads [x1_begin, x2_begin, ..., x1_end, x2_end] for the given spatial input sizes. */
    public int[] resolve(int[] input, int[] kernel, int[] stride, int[] dilation) {
        int n = input.length;
        int[] pads = new int[2 * n];
        switch (kind) {
            case VALID -> {
            }
            case SAME -> {
                for (int i = 0; i < n; i++) {
                    int out = (input[i] + stride[i] - 1) / stride[i];
                    int window = (kernel[i] - 1) * dilation[i] + 1;
                    int total = Math.max(0, (out - 1) * stride[i] + window - input[i]);
                    pads[i] = total / 2;
                    pads[i + n] = total - total / 2;
                }
            }
            case EXPLICIT -> {
                int[] b = Layers.perAxis("padding", begin, n);
                int[] e = Layers.perAxis("padding", end, n);
                System.arraycopy(b, 0, pads, 0, n);
                System.arraycopy(e, 0, pads, n, n);
            }
        }
        return pads;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case VALID -> "VALID";
            case SAME -> "SAME";
            case EXPLICIT -> Arrays.equals(begin, end) ? "pad " + Arrays.toString(begin) : "pad " + Arrays.toString(begin) + "/" + Arrays.toString(end);
        };
    }
}
