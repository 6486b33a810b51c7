package dev.cnnzoo.nn;

import dev.cnnzoo.graph.Init;

/**
 * A convolution's hyperparameters, written the way the papers' tables give them:
 * {@code Conv.of(96, 11).stride(4).valid()} is AlexNet's C1. The kernel, stride and dilation take
 * one value for every spatial axis or one per axis, so the same spec serves 1-D, 2-D and 3-D.
 */
public final class Conv {
    final int filters;
    final int[] kernel;
    final int[] stride;
    final int[] dilation;
    final Padding padding;
    final int groups;
    final boolean bias;
    final Init weightInit;
    final Init biasInit;
    /** For a depthwise convolution, output maps per input map; 0 for an ordinary convolution. */
    final int depthMultiplier;

    private Conv(int filters, int[] kernel, int[] stride, int[] dilation, Padding padding, int groups, boolean bias,
            Init weightInit, Init biasInit, int depthMultiplier) {
        this.depthMultiplier = depthMultiplier;
        this.filters = filters;
        this.kernel = kernel;
        this.stride = stride;
        this.dilation = dilation;
        this.padding = padding;
        this.groups = groups;
        this.bias = bias;
        this.weightInit = weightInit;
        this.biasInit = biasInit;
    }

    /** {@code filters} output maps, a kernel of {@code kernel} (one size, or one per spatial axis), stride 1, VALID. */
    public static Conv of(int filters, int... kernel) {
        Layers.requirePositive("filters", filters);
        Layers.requirePositive("kernel", kernel);
        return new Conv(filters, kernel.clone(), new int[] {1}, new int[] {1}, Padding.valid(), 1, true,
                Init.heNormal(false), Init.zeros(), 0);
    }

    /**
     * A depthwise convolution: each input map convolved on its own ({@code groups} = input maps),
     * {@code multiplier(m)} filters per map.
     */
    public static Conv depthwise(int... kernel) {
        Layers.requirePositive("kernel", kernel);
        return new Conv(0, kernel.clone(), new int[] {1}, new int[] {1}, Padding.valid(), 1, true,
                Init.heNormal(false), Init.zeros(), 1);
    }

    /** Output maps per input map of a depthwise convolution. */
    public Conv multiplier(int m) {
        if (depthMultiplier == 0) {
            throw new IllegalStateException("multiplier applies to Conv.depthwise only");
        }
        Layers.requirePositive("depth multiplier", m);
        return new Conv(filters, kernel, stride, dilation, padding, groups, bias, weightInit, biasInit, m);
    }

    /** The spec for an input of {@code channels} maps: resolves a depthwise spec to filters and groups. */
    Conv forChannels(int channels) {
        if (depthMultiplier == 0) {
            return this;
        }
        return new Conv(channels * depthMultiplier, kernel, stride, dilation, padding, channels, bias, weightInit, biasInit, 0);
    }

    public Conv stride(int... s) {
        Layers.requirePositive("stride", s);
        return new Conv(filters, kernel, s.clone(), dilation, padding, groups, bias, weightInit, biasInit, depthMultiplier);
    }

    /** Atrous convolution: a dilation of d spreads the kernel's taps d pixels apart. */
    public Conv dilation(int... d) {
        Layers.requirePositive("dilation", d);
        return new Conv(filters, kernel, stride, d.clone(), padding, groups, bias, weightInit, biasInit, depthMultiplier);
    }

    public Conv padding(Padding p) {
        return new Conv(filters, kernel, stride, dilation, p, groups, bias, weightInit, biasInit, depthMultiplier);
    }

    /** Symmetric zero padding, as PyTorch's {@code padding=}. */
    public Conv pad(int... p) {
        return padding(Padding.symmetric(p));
    }

    /** TensorFlow-style SAME padding. */
    public Conv same() {
        return padding(Padding.same());
    }

    public Conv valid() {
        return padding(Padding.valid());
    }

    /** Grouped convolution: input and output maps split into {@code g} independent groups. */
    public Conv groups(int g) {
        Layers.requirePositive("groups", g);
        return new Conv(filters, kernel, stride, dilation, padding, g, bias, weightInit, biasInit, depthMultiplier);
    }

    /** Without a bias term (when batch norm follows). */
    public Conv noBias() {
        return new Conv(filters, kernel, stride, dilation, padding, groups, false, weightInit, biasInit, depthMultiplier);
    }

    public Conv init(Init weights) {
        return new Conv(filters, kernel, stride, dilation, padding, groups, bias, weights, biasInit, depthMultiplier);
    }

    public Conv biasInit(Init biases) {
        return new Conv(filters, kernel, stride, dilation, padding, groups, bias, weightInit, biases, depthMultiplier);
    }

    public int filters() {
        return filters;
    }

    public boolean hasBias() {
        return bias;
    }

    @Override
    public String toString() {
        return filters + " " + java.util.Arrays.toString(kernel) + " stride " + java.util.Arrays.toString(stride) + " " + padding;
    }
}
