package dev.cnnzoo.blocks;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.ShapeException;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/**
 * PyTorch's adaptive average pooling to a fixed output size, which torchvision's AlexNet (6×6) and
 * VGG (7×7) put between their feature stacks and classifiers so the classifier's input size does not
 * depend on the image size. Along an axis of {@code n} cells pooled to {@code out}, output cell
 * {@code i} averages input cells {@code floor(i·n/out)} to {@code ceil((i+1)·n/out) − 1}; the cells may
 * overlap (7 → 6) or repeat (5 → 6).
 *
 * <p>ONNX has no adaptive pooling, and PyTorch's own exporter refuses sizes that do not divide
 * evenly, so the operator is written three ways: nothing when the maps already have the output size
 * (torchvision's networks at their 224×224 input); one {@code AveragePool} when every axis divides
 * evenly; otherwise two {@code MatMul}s with constant averaging matrices, rows then columns. The
 * last is exact because a cell's mean over a rectangle is the mean over its rows of the means over
 * its columns. (The summary counts those products as MACs, a few hundred thousand at most.)
 */
public final class AdaptiveAvgPool {
    private AdaptiveAvgPool() {
    }

    /** Pools N×C×H×W maps to N×C×{@code height}×{@code width}, emitting into the current scope. */
    public static Value of(Net net, Value x, int height, int width) {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("adaptive pooling needs a positive output size, got " + height + "×" + width);
        }
        if (x.shape().rank() != 4) {
            String layer = net.graph().scopePath();
            throw new ShapeException(layer.isEmpty() ? "adaptive pooling" : layer,
                    "adaptive average pooling needs N×C×H×W maps, got " + x.shape());
        }
        int inHeight = x.shape().dim(2);
        int inWidth = x.shape().dim(3);
        if (inHeight == height && inWidth == width) {
            return x;
        }
        if (inHeight % height == 0 && inWidth % width == 0) {
            int kh = inHeight / height;
            int kw = inWidth / width;
            return net.avgPool(x, Pool.of(kh, kw));
        }
        Value y = x;
        if (inWidth != width) {
            // N×C×H×W · [W, width] averages each row's cells into the output columns.
            Tensor columns = transpose(averaging(inWidth, width), width, inWidth);
            y = net.graph().op("MatMul", Attributes.none(), y, net.graph().constant(columns));
        }
        if (inHeight != height) {
            // [height, H] · N×C×H×width averages the rows (MatMul broadcasts the matrix over N and C).
            y = net.graph().op("MatMul", Attributes.none(), net.graph().constant(averaging(inHeight, height)), y);
        }
        return y;
    }

    /**
     * The [out, n] matrix whose row {@code i} holds 1/|bin| over PyTorch's bin {@code i} of an axis of
     * {@code n} cells pooled to {@code out}.
     */
    public static Tensor averaging(int n, int out) {
        float[] m = new float[out * n];
        for (int i = 0; i < out; i++) {
            int start = Math.floorDiv(i * n, out);
            int end = -Math.floorDiv(-(i + 1) * n, out);
            for (int j = start; j < end; j++) {
                m[i * n + j] = 1f / (end - start);
            }
        }
        return Tensor.of(Shape.of(out, n), m);
    }

    private static Tensor transpose(Tensor t, int rows, int cols) {
        float[] a = t.floats();
        float[] b = new float[a.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                b[j * rows + i] = a[i * cols + j];
            }
        }
        return Tensor.of(Shape.of(cols, rows), b);
    }
}
