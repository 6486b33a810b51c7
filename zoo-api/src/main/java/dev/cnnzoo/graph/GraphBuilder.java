package dev.cnnzoo.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Graph} node by node, inferring each output's shape as it goes. Names come from
 * a stack of scopes: inside {@code scope("layer1")} and {@code scope("0")}, a parameter
 * {@code "weight"} is named {@code layer1.0.weight}, as in a torchvision state dict.
 */
public final class GraphBuilder {
    private final String name;
    private final List<Value> inputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<Graph.Output> outputs = new ArrayList<>();
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> constants = new LinkedHashMap<>();
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Integer> counters = new HashMap<>();
    private final java.util.Set<String> nodeNames = new java.util.HashSet<>();
    private final java.util.Set<String> topLayers = new java.util.HashSet<>();
    private final Map<Value, Node> producers = new java.util.IdentityHashMap<>();
    /** INT64 vectors built by {@link #shapeOf} and the shape each holds at run time. */
    private final Map<Value, Shape> shapeVectors = new java.util.IdentityHashMap<>();
    private final Deque<String> scopes = new ArrayDeque<>();
    private final List<FeatureStage> featureStages = new ArrayList<>();
    private final Map<Value, Integer> reductions = new java.util.IdentityHashMap<>();

    public GraphBuilder(String name) {
        this.name = name;
    }

    /** A builder holding all of {@code graph}, to which more nodes and outputs can be added. */
    public static GraphBuilder extending(Graph graph) {
        GraphBuilder b = new GraphBuilder(graph.name());
        graph.inputs().forEach(v -> b.register(v, b.inputs));
        b.parameters.putAll(graph.parameters());
        graph.parameters().values().forEach(p -> b.values.put(p.name(), p.value()));
        graph.constants().forEach((k, t) -> {
            b.constants.put(k, t);
        });
        for (Node n : graph.nodes()) {
            for (Value v : n.inputs()) {
                if (v != null && v.kind() == Value.Kind.CONSTANT) {
                    b.values.put(v.name(), v);
                }
            }
            n.outputs().forEach(v -> {
                b.values.put(v.name(), v);
                b.producers.put(v, n);
            });
            b.nodes.add(n);
            b.nodeNames.add(n.name());
        }
        b.outputs.addAll(graph.outputs());
        b.featureStages.addAll(graph.featureStages());
        return b;
    }

    // ---- scopes ----------------------------------------------------------------------------

    /** A name scope, closed with try-with-resources. */
    public final class Scope implements AutoCloseable {
        private final int depth;

        private Scope(int depth) {
            this.depth = depth;
        }

        @Override
        public void close() {
            if (scopes.size() != depth) {
                throw new IllegalStateException("scopes closed out of order");
            }
            scopes.removeLast();
        }
    }

    public Scope scope(String scopeName) {
        if (scopeName == null || scopeName.isEmpty()) {
            throw new IllegalArgumentException("empty scope name");
        }
        scopes.addLast(scopeName);
        return new Scope(scopes.size());
    }

    /** The current scope path, {@code layer1.0.conv1}, or "" at the top. */
    public String scopePath() {
        return String.join(".", scopes);
    }

    /** {@code local} qualified by the current scope. */
    public String qualify(String local) {
        return scopes.isEmpty() ? local : scopePath() + "." + local;
    }

    // ---- values ----------------------------------------------------------------------------

    public Value input(String inputName, DType dtype, Shape shape) {
        return register(new Value(inputName, dtype, shape, Value.Kind.INPUT), inputs);
    }

    /** A trainable parameter named {@code local} in the current scope. */
    public Value parameter(String local, Shape shape, Init init) {
        return weight(local, shape, init, Value.Kind.PARAMETER);
    }

    /** Non-trainable state (running statistics) named {@code local} in the current scope. */
    public Value state(String local, Shape shape, Init init) {
        return weight(local, shape, init, Value.Kind.STATE);
    }

    private Value weight(String local, Shape shape, Init init, Value.Kind kind) {
        if (!shape.isStatic()) {
            throw new IllegalArgumentException("weight " + qualify(local) + " needs a static shape, got " + shape);
        }
        Value v = register(new Value(qualify(local), DType.FLOAT, shape, kind), null);
        parameters.put(v.name(), new Parameter(v, init));
        return v;
    }

    /** Constant data named {@code local} in the current scope. */
    public Value constant(String local, Tensor data) {
        Value v = register(new Value(qualify(local), data.dtype(), data.shape(), Value.Kind.CONSTANT), null);
        constants.put(v.name(), data);
        return v;
    }

    /** Constant data with a generated name. */
    public Value constant(Tensor data) {
        return constant(unique("const"), data);
    }

    /** An INT64 vector constant (axes, pads, shapes). */
    public Value int64s(long... values) {
        return constant(Tensor.int64s(values));
    }

    public Value scalar(float value) {
        return constant(Tensor.scalar(value));
    }

    /**
     * An INT64 vector holding {@code like}'s shape at run time without reading {@code like}: its
     * static dimensions as constants, its batch dimension (the one dimension left open) taken from
     * {@code batchSource}'s first. A {@code Shape} node would keep {@code like} alive until it runs;
     * this lets a gradient that needs only the shape of a large tensor (a reshape, zeros, an
     * expansion) free the tensor itself as early as its data allows.
     *
     * @param batchSource a value with the same batch dimension that lives anyway (a graph input)
     */
    public Value shapeOf(Value like, Value batchSource) {
        Shape s = like.shape();
        Value v;
        if (s.isStatic()) {
            v = int64s(s.longDims());
        } else {
            for (int i = 1; i < s.rank(); i++) {
                if (s.dim(i) < 0) {
                    throw new IllegalArgumentException("shapeOf: " + like.name() + " " + s + " has an open dimension besides the batch");
                }
            }
            Value batch = op(Op.SLICE, Attributes.none(), op(Op.SHAPE, Attributes.none(), batchSource), int64s(0), int64s(1));
            long[] rest = java.util.Arrays.copyOfRange(s.longDims(), 1, s.rank());
            v = rest.length == 0 ? batch : op(Op.CONCAT, Attributes.of("axis", 0), batch, int64s(rest));
        }
        shapeVectors.put(v, s);
        return v;
    }

    /**
     * Declares that the INT64 vector {@code v}, computed in the graph, holds {@code shape} at run time,
     * as {@link #shapeOf}'s do: a Reshape to it then has that shape. For a shape that depends on
     * other values only for ordering ({@code Where(c, s, s)}).
     */
    public Value holdingShape(Value v, Shape shape) {
        shapeVectors.put(v, shape);
        return v;
    }

    /** The data of a constant value, or null if {@code v} is not constant. */
    public Tensor constantData(Value v) {
        return v != null && v.kind() == Value.Kind.CONSTANT ? constants.get(v.name()) : null;
    }

    public Value value(String valueName) {
        return values.get(valueName);
    }

    public Parameter parameterNamed(String parameterName) {
        return parameters.get(parameterName);
    }

    private Value register(Value v, List<Value> list) {
        if (values.containsKey(v.name())) {
            throw new IllegalArgumentException("the name '" + v.name() + "' is already used in graph " + name);
        }
        values.put(v.name(), v);
        if (list != null) {
            list.add(v);
        }
        return v;
    }

    private String unique(String base) {
        return fresh(base, candidate -> values.containsKey(qualify(candidate)));
    }

    /** {@code base}, or {@code base_1}, {@code base_2}... whichever is first not {@code taken}. */
    private String fresh(String base, java.util.function.Predicate<String> taken) {
        while (true) {
            int n = counters.merge(qualify(base) + "#" + base, 1, Integer::sum) - 1;
            String candidate = n == 0 ? base : base + "_" + n;
            if (!taken.test(candidate)) {
                return candidate;
            }
        }
    }

    // ---- nodes -----------------------------------------------------------------------------

    /** Adds an operator with one output. */
    public Value op(Op op, Attributes attributes, Value... operands) {
        return op(op, 1, attributes, operands).get(0);
    }

    /** Adds an operator with {@code outputCount} outputs (a Split's parts, a MaxPool's values and indices). */
    public List<Value> op(Op op, int outputCount, Attributes attributes, Value... operands) {
        String layer = scopes.isEmpty() ? unscopedLayer(op, operands) : scopePath();
        List<Value> ins = Arrays.asList(operands.clone());
        for (Value v : ins) {
            if (v != null && values.get(v.name()) != v) {
                throw new IllegalArgumentException("layer '" + layer + "': value " + v.name() + " is not part of graph " + name);
            }
        }
        List<ShapeInference.Out> shapes = ShapeInference.infer(layer, op, ins, attributes, outputCount, this::constantData,
                v -> {
                    Node p = producers.get(v);
                    return shapeVectors.containsKey(v) ? shapeVectors.get(v) : p != null && p.is(Op.SHAPE) ? p.input(0).shape() : null;
                });
        String nodeName = uniqueNodeName(layer + "/" + op.opType());
        List<Value> outs = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
            String valueName = shapes.size() == 1 ? nodeName : nodeName + ":" + i;
            outs.add(register(new Value(valueName, shapes.get(i).dtype(), shapes.get(i).shape(), Value.Kind.ACTIVATION), null));
        }
        Node node = new Node(nodeName, op, ins, outs, attributes, layer);
        nodes.add(node);
        outs.forEach(v -> producers.put(v, node));
        return outs;
    }

    /**
     * The layer of an operator added outside any scope: the layer whose output it transforms (so an
     * activation or a flatten joins the convolution before it, as Keras's {@code activation=} does),
     * else a layer of its own named after the operator ({@code pad}, {@code pad_1}...).
     */
    private String unscopedLayer(Op op, Value[] operands) {
        for (Value v : operands) {
            if (v != null && producers.containsKey(v)) {
                return producers.get(v).layer();
            }
        }
        String layer = fresh(op.opType().toLowerCase(), topLayers::contains);
        topLayers.add(layer);
        return layer;
    }

    private String uniqueNodeName(String base) {
        String chosen = fresh(base, candidate -> nodeNames.contains(candidate) || values.containsKey(candidate));
        nodeNames.add(chosen);
        return chosen;
    }

    // ---- feature stages --------------------------------------------------------------------

    /** The operators that step over their input: a stride of s divides the resolution by s. */
    private static final java.util.Set<Op> STRIDED = java.util.EnumSet.of(Op.CONV, Op.MAX_POOL, Op.AVERAGE_POOL);

    /**
     * How many input pixels one position of {@code v} steps over: the product of the strides on the
     * way from the graph's input to it (where branches meet, the largest; they agree in every zoo
     * network). Nominal, so it does not depend on the input size: 32 for ResNet's last stage at
     * 224×224 (7×7 maps) and at 64×64 (2×2) alike.
     */
    public int reduction(Value v) {
        Deque<Value> pending = new ArrayDeque<>();
        pending.push(v);
        while (!pending.isEmpty()) {
            Value top = pending.peek();
            Node p = producers.get(top);
            if (reductions.containsKey(top) || p == null) {
                reductions.putIfAbsent(top, 1);         // the input, or a value already known
                pending.pop();
                continue;
            }
            List<Value> images = p.inputs().stream()
                    .filter(in -> in != null && (in.kind() == Value.Kind.ACTIVATION || in.kind() == Value.Kind.INPUT)).toList();
            List<Value> unknown = images.stream().filter(in -> !reductions.containsKey(in)).toList();
            if (!unknown.isEmpty()) {
                unknown.forEach(pending::push);
                continue;
            }
            long[] strides = STRIDED.contains(p.operator()) ? p.attributes().getInts("strides") : null;
            int stride = strides == null ? 1 : (int) java.util.Arrays.stream(strides).max().orElse(1);
            int r = stride * images.stream().mapToInt(reductions::get).max().orElse(1);
            p.outputs().forEach(out -> reductions.put(out, r));
            pending.pop();
        }
        return reductions.get(v);
    }

    /**
     * Marks {@code v} as the network's next feature stage, {@code stage1}, {@code stage2}... in the
     * order marked, tapping the layer the builder calls {@code layer}. Each stage must reduce the
     * input more than the one before: a stage is the last feature map at its reduction.
     */
    public FeatureStage featureStage(String layer, Value v) {
        if (v.shape().rank() < 3) {
            throw new IllegalArgumentException("feature stage " + layer + " must be a map N×C×spatial, not " + v.shape());
        }
        int reduction = reduction(v);
        if (!featureStages.isEmpty()) {
            FeatureStage previous = featureStages.get(featureStages.size() - 1);
            if (reduction <= previous.reduction()) {
                throw new IllegalStateException("graph " + name + ": feature stage " + layer + " (reduction " + reduction
                        + ") does not reduce the input more than " + previous.layer() + " (reduction " + previous.reduction()
                        + "); mark only the last map at each reduction");
            }
        }
        FeatureStage s = new FeatureStage("stage" + (featureStages.size() + 1), layer, v.shape().dim(1), reduction, v);
        featureStages.add(s);
        return s;
    }

    /** The feature stages marked so far, in order. */
    public List<FeatureStage> featureStages() {
        return List.copyOf(featureStages);
    }

    // ---- outputs ---------------------------------------------------------------------------

    /** Declares {@code v} an output named {@code outputName}. */
    public Value output(String outputName, Value v) {
        return addOutput(outputName, v, false);
    }

    /** Declares an auxiliary output: kept in training graphs, dropped from the inference export. */
    public Value auxiliaryOutput(String outputName, Value v) {
        return addOutput(outputName, v, true);
    }

    private Value addOutput(String outputName, Value v, boolean auxiliary) {
        boolean renamable = v.kind() == Value.Kind.ACTIVATION && outputs.stream().noneMatch(o -> o.value() == v);
        Value out;
        if (renamable && !outputName.equals(v.name())) {
            if (values.containsKey(outputName)) {
                throw new IllegalArgumentException("the name '" + outputName + "' is already used in graph " + name);
            }
            values.remove(v.name());
            v.rename(outputName);
            values.put(outputName, v);
            out = v;
        } else if (renamable) {
            out = v;
        } else {
            out = new Value(outputName, v.dtype(), v.shape(), Value.Kind.ACTIVATION);
            register(out, null);
            nodes.add(new Node(uniqueNodeName(outputName + "/" + Op.IDENTITY.opType()), Op.IDENTITY, List.of(v), List.of(out),
                    Attributes.none(), outputName));
        }
        outputs.add(new Graph.Output(out, auxiliary));
        return out;
    }

    /** Removes every output, so that a graph being extended can declare its own. */
    public void clearOutputs() {
        outputs.clear();
    }

    public Graph build() {
        if (outputs.isEmpty()) {
            throw new IllegalStateException("graph " + name + " has no outputs");
        }
        Graph full = new Graph(name, inputs, nodes, outputs, parameters, constants, featureStages);
        return full.pruned(nodes, outputs, featureStages);
    }
}
