package dev.cnnzoo.training;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Emits the nodes the gradient rules write, and holds one differentiation's state: the forward
 * tensors a node's backward reads ({@link #save}), the new values of running statistics, the dropout
 * masks the trainer feeds and the run-time batch size. Its helpers ({@link #mul}, {@link #unbroadcast},
 * {@link #reshapeLike}, ...) are the terms the rules are written in, and the losses and optimizer
 * updates use them too; each emits standard ONNX operators ({@link Op}, opset 17) into the training
 * graph. The reverse pass itself, which walks the forward graph and calls each operator's
 * {@link GradientRule}, is {@link TrainingGraph}'s.
 */
final class GradientEmitter {
    final GraphBuilder g;
    private final Set<String> frozen;
    private final Map<Node, Map<String, Value>> saved = new IdentityHashMap<>();
    private final Map<String, Value> stateUpdates = new LinkedHashMap<>();
    private final List<TrainingGraph.DropoutMask> masks = new ArrayList<>();
    private final Map<String, Integer> maskNames = new HashMap<>();
    private Value batchSource;
    private Value batchSize;
    private final Map<String, Value> sharedConstants = new HashMap<>();

    GradientEmitter(GraphBuilder g, Set<String> frozen) {
        this.g = g;
        this.frozen = frozen;
    }

    // ---- bookkeeping for rules -------------------------------------------------------------

    /**
     * A network input whose first dimension is the batch: shapes that need the batch at run time
     * read it from this value (which lives for the whole step) rather than from the activation
     * they describe, which could then not be freed until the shape was taken.
     */
    void batchSource(Value input) {
        this.batchSource = input;
    }

    /** Whether a forward parameter is frozen (no gradient, inference-mode batch norm). */
    boolean isFrozen(Value parameter) {
        return parameter != null && frozen.contains(parameter.name());
    }

    /** Keeps a forward tensor for the node's backward (MaxPool's indices, batch norm's x̂). */
    void save(Node node, String key, Value v) {
        saved.computeIfAbsent(node, k -> new HashMap<>()).put(key, v);
    }

    /** A tensor the node's forward pass kept, or null if it kept none under that key. */
    Value savedIfAny(Node node, String key) {
        return saved.getOrDefault(node, Map.of()).get(key);
    }

    Value saved(Node node, String key) {
        Value v = saved.getOrDefault(node, Map.of()).get(key);
        if (v == null) {
            throw new IllegalStateException("no saved '" + key + "' for " + node.name());
        }
        return v;
    }

    /** Declares the new value of a piece of state (a running statistic) after this step. */
    void updateState(String stateName, Value newValue) {
        stateUpdates.put(stateName, newValue);
    }

    Map<String, Value> stateUpdates() {
        return stateUpdates;
    }

    /** A dropout mask input for {@code node}: ones and zeros scaled by 1/(1 − rate), fed by the trainer. */
    Value dropoutMask(Node node, Shape shape, double rate) {
        String base = node.layer() + ".dropout_mask";
        int n = maskNames.merge(base, 1, Integer::sum);
        String name = n == 1 ? base : base + "_" + (n - 1);
        masks.add(new TrainingGraph.DropoutMask(name, shape, rate));
        return g.input(name, DType.FLOAT, shape);
    }

    List<TrainingGraph.DropoutMask> masks() {
        return masks;
    }

    // ---- emitting --------------------------------------------------------------------------

    /** The node as it is, in its own layer. */
    List<Value> copy(Node node, List<Value> inputs) {
        try (var s = g.scope(node.layer())) {
            return g.op(node.operator(), node.outputs().size(), node.attributes(), inputs.toArray(Value[]::new));
        }
    }

    Value op(Op op, Attributes attributes, Value... inputs) {
        return g.op(op, attributes, inputs);
    }

    Value op(Op op, Value... inputs) {
        return g.op(op, Attributes.none(), inputs);
    }

    Value scalar(double v) {
        return g.scalar((float) v);
    }

    Value int64s(long... v) {
        return g.int64s(v);
    }

    Value constant(Tensor t) {
        return g.constant(t);
    }

    Value add(Value a, Value b) {
        return op(Op.ADD, a, b);
    }

    Value sub(Value a, Value b) {
        return op(Op.SUB, a, b);
    }

    Value mul(Value a, Value b) {
        return op(Op.MUL, a, b);
    }

    Value div(Value a, Value b) {
        return op(Op.DIV, a, b);
    }

    Value neg(Value a) {
        return op(Op.NEG, a);
    }

    Value scale(Value a, double factor) {
        return factor == 1 ? a : times(a, scalar(factor));
    }

    /** {@code x}·{@code s} for a scalar {@code s}; see {@link #withScalar}. */
    Value times(Value x, Value s) {
        return withScalar(Op.MUL, x, s);
    }

    /** {@code x} + {@code s} for a scalar {@code s}; see {@link #withScalar}. */
    Value plus(Value x, Value s) {
        return withScalar(Op.ADD, x, s);
    }

    /**
     * A tensor and a scalar through a binary operator, the tensor flattened when its shape is static
     * and has an axis of 1 (1×1, 7×1 and 3×1 kernels). Over such a shape ONNX Runtime broadcasts the
     * scalar an element at a time: 11 ns an element against 0.3 for the same values flattened, which
     * made Inception-v3's NAdam update 920 ms of a 3.3 s step (PyTorch's: 117 ms). Reshape copies
     * nothing in ONNX Runtime, so the detour is free. Shapes with an open batch are left as they are:
     * the activations that have an axis of 1 ([N, C, 1, 1] after global pooling) are small.
     */
    private Value withScalar(Op op, Value x, Value s) {
        Shape shape = x.shape();
        if (shape.rank() < 2 || !shape.isStatic() || Arrays.stream(shape.dims()).noneMatch(d -> d == 1)) {
            return op(op, x, s);
        }
        return reshape(op(op, reshape(x, -1), s), shape.longDims());
    }

    /**
     * One constant per key for the whole differentiation, {@code data} computed on first use: a
     * constant many layers read alike (the kernel flip's reversal matrix per kernel size) is stored once.
     */
    Value sharedConstant(String key, java.util.function.Supplier<Tensor> data) {
        return sharedConstants.computeIfAbsent(key, k -> constant(data.get()));
    }

    /**
     * The sum of the gradient contributions (one needs no node). Two, the usual case (a residual
     * branch and its shortcut), are an Add: ONNX Runtime's variadic Sum took twice Add's time for them.
     */
    Value sum(List<Value> terms) {
        return terms.size() == 1 ? terms.get(0) : terms.size() == 2 ? add(terms.get(0), terms.get(1))
                : op(Op.SUM, terms.toArray(Value[]::new));
    }

    Value transpose(Value v, int... perm) {
        return op(Op.TRANSPOSE, Attributes.of("perm", perm), v);
    }

    /**
     * {@code like}'s shape as an INT64 vector at run time, without keeping {@code like} alive: see
     * {@link GraphBuilder#shapeOf(Value, Value)}. An activation of rank 2 or more whose only open
     * dimension is the first has the batch there (the network's tensors); anything else (a tensor
     * flattened to one open dimension) takes a {@code Shape} node.
     */
    Value shapeOf(Value like) {
        if (like.shape().isStatic() || batchSource == null || !onlyBatchOpen(like.shape())) {
            return like.shape().isStatic() ? int64s(like.shape().longDims()) : op(Op.SHAPE, like);
        }
        return g.shapeOf(like, batchSource);
    }

    private static boolean onlyBatchOpen(Shape s) {
        for (int i = 1; i < s.rank(); i++) {
            if (s.dim(i) < 0) {
                return false;
            }
        }
        return s.rank() > 1;
    }

    /** {@code v} reshaped to {@code like}'s shape (nothing when they already agree). */
    Value reshapeLike(Value v, Value like) {
        if (v.shape().equals(like.shape())) {
            return v;
        }
        return op(Op.RESHAPE, v, shapeOf(like));
    }

    /** A static-shape reshape. */
    Value reshape(Value v, long... dims) {
        return op(Op.RESHAPE, v, int64s(dims));
    }

    /** Zeros of {@code like}'s shape, batch included. */
    Value zerosLike(Value like) {
        if (like.shape().isStatic()) {
            return constant(Tensor.zeros(like.shape()));
        }
        return op(Op.CONSTANT_OF_SHAPE, Attributes.of("value", Tensor.of(Shape.of(1), new float[] {0f})), shapeOf(like));
    }

    /** {@code v} broadcast to {@code like}'s shape. */
    Value expandLike(Value v, Value like) {
        if (v.shape().equals(like.shape())) {
            return v;
        }
        return op(Op.EXPAND, v, shapeOf(like));
    }

    /** The batch size as a float scalar-like [1] tensor. */
    Value batchSize(Value batched) {
        if (batchSource == null) {
            Value n = op(Op.GATHER, Attributes.of("axis", 0), op(Op.SHAPE, batched), int64s(0));
            return op(Op.CAST, Attributes.of("to", DType.FLOAT.onnxCode()), n);
        }
        if (batchSize == null) {
            try (var s = g.scope("batch")) {
                Value n = op(Op.GATHER, Attributes.of("axis", 0), op(Op.SHAPE, batchSource), int64s(0));
                batchSize = op(Op.CAST, Attributes.of("to", DType.FLOAT.onnxCode()), n);
            }
        }
        return batchSize;
    }

    /** The number of values per channel of {@code x} (batch × spatial positions) as a float scalar. */
    Value valuesPerChannel(Value x) {
        long spatial = 1;
        for (int i = 2; i < x.shape().rank(); i++) {
            spatial *= x.shape().dim(i);
        }
        if (x.shape().dim(0) >= 0) {
            return scalar((double) spatial * x.shape().dim(0));
        }
        return scale(batchSize(x), spatial);
    }

    /**
     * Sums a gradient over the axes along which its value was broadcast, giving it the value's
     * shape: the gradient of a [C,1,1] coefficient applied to N×C×H×W maps sums over N, H and W.
     */
    Value unbroadcast(Value grad, Shape target) {
        Shape s = grad.shape();
        if (s.equals(target)) {
            return grad;
        }
        int lead = s.rank() - target.rank();
        List<Long> axes = new ArrayList<>();
        for (int i = 0; i < s.rank(); i++) {
            int t = i < lead ? 1 : target.dim(i - lead);
            if (i < lead || (t == 1 && s.dim(i) != 1)) {
                axes.add((long) i);
            } else if (t != s.dim(i)) {
                throw new ZooException("cannot reduce a gradient of " + s + " to " + target);
            }
        }
        Value reduced = axes.isEmpty() ? grad
                : op(Op.REDUCE_SUM, Attributes.of("keepdims", 1), grad, int64s(axes.stream().mapToLong(Long::longValue).toArray()));
        return reduced.shape().equals(target) ? reduced : reshape(reduced, target.longDims());
    }

    /** ReduceSum over {@code axes}, keeping them. */
    Value reduceSum(Value v, boolean keep, long... axes) {
        return op(Op.REDUCE_SUM, Attributes.of("keepdims", keep ? 1 : 0), v, int64s(axes));
    }

    Value reduceMean(Value v, boolean keep, long... axes) {
        return op(Op.REDUCE_MEAN, Attributes.of("axes", axes, "keepdims", keep ? 1 : 0), v);
    }

    /** Every axis but the channels (1): the axes batch norm averages over. */
    static long[] allButChannels(int rank) {
        long[] axes = new long[rank - 1];
        axes[0] = 0;
        for (int i = 2; i < rank; i++) {
            axes[i - 1] = i;
        }
        return axes;
    }

    static int[] ints(long[] a) {
        return Arrays.stream(a).mapToInt(Math::toIntExact).toArray();
    }
}
