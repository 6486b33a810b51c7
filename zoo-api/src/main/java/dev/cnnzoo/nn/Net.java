package dev.cnnzoo.nn;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Init;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.ShapeException;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * The layer vocabulary networks are written in. Each method emits ONNX nodes into the graph; a
 * method taking a {@code name} opens that scope, so its parameters are {@code name.weight},
 * {@code name.bias} inside whatever scope is open. Tensors are NCHW (or NCL, NCDHW).
 */
public class Net {
    /** The name of every zoo network's image input. */
    public static final String INPUT = "input";
    /** The name of the classifier output. */
    public static final String LOGITS = "logits";
    /** The name of a headless network's output. */
    public static final String FEATURES = "features";

    private final GraphBuilder g;

    public Net(String graphName) {
        this.g = new GraphBuilder(graphName);
    }

    /** The underlying builder, for operators this vocabulary does not wrap. */
    public GraphBuilder graph() {
        return g;
    }

    public GraphBuilder.Scope scope(String name) {
        return g.scope(name);
    }

    /** The image batch: N×channels×spatial. */
    public Value input(int channels, int... spatial) {
        int[] perSample = new int[spatial.length + 1];
        perSample[0] = channels;
        System.arraycopy(spatial, 0, perSample, 1, spatial.length);
        return g.input(INPUT, DType.FLOAT, Shape.batched(perSample));
    }

    // ---- convolution -----------------------------------------------------------------------

    /** A convolution (1-D, 2-D or 3-D after the input's rank); parameters {@code name.weight}, {@code name.bias}. */
    public Value conv(String name, Value x, Conv spec) {
        try (var s = g.scope(name)) {
            requireRank(x, 3, "convolution");
            Conv c = spec.forChannels(x.shape().dim(1));
            int spatial = x.shape().rank() - 2;
            int[] kernel = Layers.perAxis("kernel", c.kernel, spatial);
            int[] stride = Layers.perAxis("stride", c.stride, spatial);
            int[] dilation = Layers.perAxis("dilation", c.dilation, spatial);
            int channels = x.shape().dim(1);
            if (channels % c.groups != 0 || c.filters % c.groups != 0) {
                throw new ShapeException(g.scopePath(), "groups " + c.groups + " must divide both " + channels
                        + " input maps and " + c.filters + " filters");
            }
            int[] w = new int[spatial + 2];
            w[0] = c.filters;
            w[1] = channels / c.groups;
            System.arraycopy(kernel, 0, w, 2, spatial);
            Value weight = g.parameter("weight", Shape.of(w), c.weightInit);
            Value bias = c.bias ? g.parameter("bias", Shape.of(c.filters), c.biasInit) : null;
            int[] pads = c.padding.resolve(x.shape().tail(2), kernel, stride, dilation);
            Attributes a = Attributes.builder()
                    .put("kernel_shape", kernel)
                    .put("strides", stride)
                    .put("pads", pads)
                    .put("dilations", dilation)
                    .put("group", c.groups)
                    .build();
            return bias == null ? g.op(Op.CONV, a, x, weight) : g.op(Op.CONV, a, x, weight, bias);
        }
    }

    /**
     * A transposed ("fractionally strided") convolution that upsamples; weight shape
     * [in, out/groups, k...] as in ONNX and PyTorch.
     */
    public Value convTranspose(String name, Value x, Conv spec) {
        try (var s = g.scope(name)) {
            requireRank(x, 3, "transposed convolution");
            int spatial = x.shape().rank() - 2;
            int[] kernel = Layers.perAxis("kernel", spec.kernel, spatial);
            int[] stride = Layers.perAxis("stride", spec.stride, spatial);
            int[] dilation = Layers.perAxis("dilation", spec.dilation, spatial);
            int channels = x.shape().dim(1);
            int[] w = new int[spatial + 2];
            w[0] = channels;
            w[1] = spec.filters / spec.groups;
            System.arraycopy(kernel, 0, w, 2, spatial);
            Value weight = g.parameter("weight", Shape.of(w), spec.weightInit);
            Value bias = spec.bias ? g.parameter("bias", Shape.of(spec.filters), spec.biasInit) : null;
            int[] pads;
            int[] outputPadding = new int[spatial];
            if (spec.padding.isSame()) {
                // SAME for a transposed convolution means output = input × stride (TensorFlow's conv2d_transpose).
                pads = new int[2 * spatial];
                for (int i = 0; i < spatial; i++) {
                    int total = (kernel[i] - 1) * dilation[i] + 1 - stride[i];
                    if (total < 0) {
                        outputPadding[i] = -total;
                        total = 0;
                    }
                    pads[i] = total / 2;
                    pads[i + spatial] = total - total / 2;
                }
            } else {
                pads = spec.padding.resolve(x.shape().tail(2), kernel, stride, dilation);
            }
            Attributes a = Attributes.builder()
                    .put("kernel_shape", kernel)
                    .put("strides", stride)
                    .put("pads", pads)
                    .put("dilations", dilation)
                    .put("group", spec.groups)
                    .put("output_padding", outputPadding)
                    .build();
            return bias == null ? g.op(Op.CONV_TRANSPOSE, a, x, weight) : g.op(Op.CONV_TRANSPOSE, a, x, weight, bias);
        }
    }

    /**
     * A depthwise separable convolution (Chollet 2017): a depthwise convolution with the spec's
     * kernel, stride, padding and dilation, then a 1×1 pointwise convolution to {@code spec.filters}
     * maps. Parameters {@code name.depthwise.weight}, {@code name.pointwise.weight}[, {@code .bias}].
     */
    public Value separableConv(String name, Value x, Conv spec) {
        try (var s = g.scope(name)) {
            Conv depthwise = Conv.depthwise(spec.kernel).stride(spec.stride).dilation(spec.dilation)
                    .padding(spec.padding).noBias().init(spec.weightInit);
            Value y = conv("depthwise", x, depthwise);
            Conv pointwise = Conv.of(spec.filters, 1).init(spec.weightInit).biasInit(spec.biasInit);
            return conv("pointwise", y, spec.bias ? pointwise : pointwise.noBias());
        }
    }

    // ---- pooling ---------------------------------------------------------------------------

    public Value maxPool(Value x, Pool pool) {
        return pool(Op.MAX_POOL, x, pool);
    }

    public Value maxPool(String name, Value x, Pool pool) {
        try (var s = g.scope(name)) {
            return maxPool(x, pool);
        }
    }

    public Value avgPool(Value x, Pool pool) {
        return pool(Op.AVERAGE_POOL, x, pool);
    }

    public Value avgPool(String name, Value x, Pool pool) {
        try (var s = g.scope(name)) {
            return avgPool(x, pool);
        }
    }

    private Value pool(Op op, Value x, Pool pool) {
        requireRank(x, 3, "pooling");
        int spatial = x.shape().rank() - 2;
        int[] kernel = Layers.perAxis("pooling window", pool.kernel, spatial);
        int[] stride = Layers.perAxis("stride", pool.stride, spatial);
        int[] pads = pool.padding.resolve(x.shape().tail(2), kernel, stride, ones(spatial));
        Attributes.Builder a = Attributes.builder()
                .put("kernel_shape", kernel)
                .put("strides", stride)
                .put("pads", pads);
        if (pool.ceilMode) {
            a.put("ceil_mode", 1);
        }
        if (op == Op.AVERAGE_POOL) {
            a.put("count_include_pad", pool.countIncludePad ? 1 : 0);
        }
        return g.op(op, a.build(), x);
    }

    /** Global average pooling: N×C×H×W to N×C×1×1. */
    public Value globalAvgPool(Value x) {
        requireRank(x, 3, "global pooling");
        return g.op(Op.GLOBAL_AVERAGE_POOL, Attributes.none(), x);
    }

    public Value globalMaxPool(Value x) {
        requireRank(x, 3, "global pooling");
        return g.op(Op.GLOBAL_MAX_POOL, Attributes.none(), x);
    }

    /**
     * Average pooling to a fixed output size, PyTorch's {@code adaptive_avg_pool2d}: along an axis of
     * n positions, output cell i averages positions ⌊i·n/out⌋ to ⌈(i+1)·n/out⌉ − 1. When {@code out}
     * divides n the windows tile the input and this is one {@code AveragePool}. Otherwise the windows
     * do not share a stride (torchvision's GoogLeNet pools 14×14 to 4×4 with windows starting at 0, 3,
     * 7 and 10), so the average is written as two products with constant averaging matrices,
     * A_h · X · A_wᵀ, which every ONNX runtime computes exactly as the windows would.
     */
    public Value adaptiveAvgPool(Value x, int outHeight, int outWidth) {
        if (x.shape().rank() != 4) {
            throw new ShapeException(g.scopePath().isEmpty() ? "input" : g.scopePath(),
                    "adaptive average pooling needs an N×C×H×W input, got " + x.shape());
        }
        Layers.requirePositive("output size", outHeight, outWidth);
        int h = x.shape().dim(2);
        int w = x.shape().dim(3);
        if (h == outHeight && w == outWidth) {
            return x;                                   // torchvision's networks at their own input size
        }
        if (outHeight == 1 && outWidth == 1) {
            return globalAvgPool(x);
        }
        if (h % outHeight == 0 && w % outWidth == 0) {
            return avgPool(x, Pool.of(h / outHeight, w / outWidth));
        }
        // A cell's mean over a rectangle is the mean over its rows of the means over its columns:
        // multiply by constant averaging matrices, only along the axes whose size changes.
        Value y = x;
        if (w != outWidth) {
            y = g.op(Op.MAT_MUL, Attributes.none(), y, g.constant(averaging(w, outWidth, true)));
        }
        if (h != outHeight) {
            y = g.op(Op.MAT_MUL, Attributes.none(), g.constant(averaging(h, outHeight, false)), y);
        }
        return y;
    }

    /**
     * The matrix averaging {@code n} positions into {@code out} adaptive windows: out×n, or its
     * transpose n×out when {@code transposed} (to multiply from the right).
     */
    static Tensor averaging(int n, int out, boolean transposed) {
        float[] a = new float[n * out];
        for (int i = 0; i < out; i++) {
            int start = Math.floorDiv(i * n, out);
            int end = -Math.floorDiv(-(i + 1) * n, out);
            for (int j = start; j < end; j++) {
                a[transposed ? j * out + i : i * n + j] = 1f / (end - start);
            }
        }
        return Tensor.of(transposed ? Shape.of(n, out) : Shape.of(out, n), a);
    }

    /**
     * Max pooling across maps rather than space (the reference's depthwise max pooling): every
     * {@code size} consecutive maps become one, so the network can learn invariances among them.
     */
    public Value depthMaxPool(String name, Value x, int size) {
        try (var s = g.scope(name)) {
            requireRank(x, 4, "depth pooling");
            int[] d = x.shape().dims();
            if (d[1] % size != 0) {
                throw new ShapeException(g.scopePath(), "depth pooling of " + size + " does not divide " + x.shape() + "'s " + d[1] + " maps");
            }
            // Pooling over depth is a 3-D max pool with a window of size×1×1 on N×1×C×H×W.
            Value stacked = reshape(x, 0, 1, d[1], d[2], d[3]);
            Value pooled = g.op(Op.MAX_POOL, Attributes.builder()
                    .put("kernel_shape", new int[] {size, 1, 1})
                    .put("strides", new int[] {size, 1, 1})
                    .put("pads", new int[6]).build(), stacked);
            return reshape(pooled, 0, d[1] / size, d[2], d[3]);
        }
    }

    // ---- normalisation ---------------------------------------------------------------------

    public Value lrn(Value x, Lrn lrn) {
        requireRank(x, 3, "local response normalisation");
        return g.op(Op.LRN, Attributes.builder()
                .put("size", lrn.size)
                .put("alpha", lrn.onnxAlpha)
                .put("beta", lrn.beta)
                .put("bias", lrn.bias).build(), x);
    }

    public Value lrn(String name, Value x, Lrn lrn) {
        try (var s = g.scope(name)) {
            return lrn(x, lrn);
        }
    }

    public Value batchNorm(String name, Value x) {
        return batchNorm(name, x, BatchNorm.defaults());
    }

    /**
     * Batch normalisation over the channel axis: parameters {@code weight} (γ), {@code bias} (β) and
     * state {@code running_mean}, {@code running_var}, named as torchvision names them.
     */
    public Value batchNorm(String name, Value x, BatchNorm spec) {
        try (var s = g.scope(name)) {
            requireRank(x, 2, "batch normalisation");
            Shape c = Shape.of(x.shape().dim(1));
            Value scale = g.parameter("weight", c, spec.zeroScale() ? Init.zeros() : Init.ones());
            Value shift = g.parameter("bias", c, Init.zeros());
            Value mean = g.state("running_mean", c, Init.zeros());
            Value var = g.state("running_var", c, Init.ones());
            return g.op(Op.BATCH_NORMALIZATION, Attributes.builder()
                    .put("epsilon", (float) spec.epsilon())
                    .put("momentum", (float) (1 - spec.momentum())).build(), x, scale, shift, mean, var);
        }
    }

    // ---- dense -----------------------------------------------------------------------------

    public Value dense(String name, Value x, int units) {
        return dense(name, x, units, Init.glorotUniform(), Init.zeros());
    }

    /** A fully connected layer, y = x·Wᵀ + b with W of shape [units, inputs] as in torchvision. */
    public Value dense(String name, Value x, int units, Init weightInit, Init biasInit) {
        try (var s = g.scope(name)) {
            if (x.shape().rank() != 2) {
                throw new ShapeException(g.scopePath(), "a dense layer needs a flat N×features input, got " + x.shape()
                        + " (flatten or pool first)");
            }
            Layers.requirePositive("units", units);
            Value w = g.parameter("weight", Shape.of(units, x.shape().dim(1)), weightInit);
            Value b = g.parameter("bias", Shape.of(units), biasInit);
            return g.op(Op.GEMM, Attributes.of("transB", 1), x, w, b);
        }
    }

    public Value flatten(Value x) {
        return g.op(Op.FLATTEN, Attributes.of("axis", 1), x);
    }

    /** Reshape to {@code dims}; 0 copies the input's dimension (keeps the symbolic batch), −1 is inferred. */
    public Value reshape(Value x, long... dims) {
        return g.op(Op.RESHAPE, Attributes.none(), x, g.int64s(dims));
    }

    /** Dropout with the given drop probability; a rate of 0 adds nothing. Removed from inference exports. */
    public Value dropout(Value x, double rate) {
        if (rate < 0 || rate >= 1) {
            throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + rate);
        }
        if (rate == 0) {
            return x;
        }
        return g.op(Op.DROPOUT, Attributes.none(), x, g.scalar((float) rate));
    }

    // ---- combination and activations -------------------------------------------------------

    /** Concatenation along the maps (the inception module's depth concat). */
    public Value concat(Value... xs) {
        return g.op(Op.CONCAT, Attributes.of("axis", 1), xs);
    }

    public Value add(Value a, Value b) {
        return g.op(Op.ADD, Attributes.none(), a, b);
    }

    public Value mul(Value a, Value b) {
        return g.op(Op.MUL, Attributes.none(), a, b);
    }

    public Value sub(Value a, Value b) {
        return g.op(Op.SUB, Attributes.none(), a, b);
    }

    /** Multiplies by a constant. */
    public Value scale(Value x, double factor) {
        return g.op(Op.MUL, Attributes.none(), x, g.scalar((float) factor));
    }

    public Value relu(Value x) {
        return g.op(Op.RELU, Attributes.none(), x);
    }

    public Value tanh(Value x) {
        return g.op(Op.TANH, Attributes.none(), x);
    }

    public Value sigmoid(Value x) {
        return g.op(Op.SIGMOID, Attributes.none(), x);
    }

    public Value softmax(Value x) {
        return g.op(Op.SOFTMAX, Attributes.of("axis", -1), x);
    }

    /** Zero padding of the spatial axes: one value for all, or one per spatial axis (both sides). */
    public Value zeroPad(Value x, int... perAxis) {
        int spatial = x.shape().rank() - 2;
        int[] p = Layers.perAxis("padding", perAxis, spatial);
        long[] pads = new long[2 * x.shape().rank()];
        for (int i = 0; i < spatial; i++) {
            pads[2 + i] = p[i];
            pads[x.shape().rank() + 2 + i] = p[i];
        }
        return g.op(Op.PAD, Attributes.of("mode", "constant"), x, g.int64s(pads));
    }

    // ---- outputs ---------------------------------------------------------------------------

    /**
     * Marks {@code x} as the network's next feature stage, tapping the layer its paper (or
     * torchvision) calls {@code layer}: the last feature map at each reduction of the input, which a
     * network built for its features only ({@link Head#stages()}) outputs as {@code stage1},
     * {@code stage2}... Returns {@code x}.
     *
     * @throws IllegalStateException if {@code x} does not reduce the input more than the stage before
     */
    public Value feature(String layer, Value x) {
        g.featureStage(layer, x);
        return x;
    }

    /**
     * The head every zoo network ends in ({@link Head}): the classifier's output as {@code logits};
     * without it, the last feature maps pooled as asked as {@code features}; or, for the features
     * only, each stage marked with {@link #feature} as {@code stage1}, {@code stage2}... (the
     * classifier is then never built).
     */
    public Value top(Value features, Head head, UnaryOperator<Value> classifier) {
        switch (head.kind()) {
            case LOGITS:
                return g.output(LOGITS, classifier.apply(features));
            case STAGES:
                var stages = g.featureStages();
                if (stages.isEmpty()) {
                    throw new IllegalStateException("the network marks no feature stages (Net.feature) to output");
                }
                stages.forEach(s -> g.output(s.name(), s.value()));
                return stages.get(stages.size() - 1).value();
            default:
                if (head.pool() == GlobalPool.NONE) {
                    return g.output(FEATURES, features);
                }
                try (var s = g.scope("global_pool")) {
                    return g.output(FEATURES, flatten(head.pool() == GlobalPool.AVG ? globalAvgPool(features) : globalMaxPool(features)));
                }
        }
    }

    /** {@link #top(Value, Head, UnaryOperator)} for a network that marks no feature stages: logits or features. */
    public Value top(Value features, boolean includeTop, GlobalPool pool, UnaryOperator<Value> classifier) {
        return top(features, includeTop ? Head.logits() : Head.features(pool), classifier);
    }

    public Value output(String name, Value v) {
        return g.output(name, v);
    }

    /** A side output kept for training (GoogLeNet's auxiliary classifiers). */
    public Value auxiliaryOutput(String name, Value v) {
        return g.auxiliaryOutput(name, v);
    }

    public Graph build() {
        return g.build();
    }

    private void requireRank(Value x, int rank, String what) {
        if (x.shape().rank() < rank) {
            throw new ShapeException(g.scopePath().isEmpty() ? "input" : g.scopePath(),
                    what + " needs an N×C×spatial input, got " + x.shape());
        }
    }

    private static int[] ones(int n) {
        int[] a = new int[n];
        Arrays.fill(a, 1);
        return a;
    }
}
