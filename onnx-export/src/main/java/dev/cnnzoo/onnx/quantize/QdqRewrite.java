package dev.cnnzoo.onnx.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.onnx.OnnxFiles;
import dev.cnnzoo.onnx.quantize.EditableGraph.Node;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Static INT8 quantization of a float ONNX model in QDQ form: standard {@code QuantizeLinear} and
 * {@code DequantizeLinear} nodes (opset 13's per-axis forms) around the float operators, so the
 * file stays standard ONNX, and ONNX Runtime fuses each DequantizeLinear → op → QuantizeLinear
 * group into its integer kernel.
 *
 * <p>The form follows what ONNX Runtime's x86 kernels need (see {@link OpRoles}): activations
 * uint8 with a zero point, one scale per tensor; weights int8, symmetric, one scale per output
 * channel; biases int32 at scale input scale × weight scale. A ReLU whose input nothing else reads
 * folds into the quantization of its output (zero point 0 clamps negatives, which is exactly
 * ReLU). Data-movement operators (max pooling, flatten, reshape) run on the uint8 tensors, so no
 * DequantizeLinear → QuantizeLinear pair is left between two fused nodes.
 *
 * <p>Use: {@link #plan} folds and analyses the float model; calibration runs {@link #fp32()} with
 * every tensor of {@link #calibrationTensors()} as an output and finds each one's range;
 * {@link #quantize} writes the QDQ model from those ranges.
 */
public final class QdqRewrite {
    /** The opset whose QuantizeLinear and DequantizeLinear take per-axis scales. */
    public static final int MIN_OPSET = 13;
    /** The metadata entry a quantized model records its quantization under. */
    public static final String METADATA_KEY = "zoo.quantization";

    /** A node the quantized model keeps in float, and why; {@code unknown} when the quantizer does not know its op. */
    public record Fp32Node(String name, String op, String reason, boolean unknown) {
    }

    private final EditableGraph graph;
    private final ModelProto fp32;
    private final Map<Node, OpRoles> roles = new HashMap<>();
    private final Map<Node, String> fp32Reasons = new LinkedHashMap<>();
    private final Set<Node> unknown = new HashSet<>();
    /** Nodes kept in float because the caller named their layer. */
    private final Set<Node> kept = new HashSet<>();
    /** Quantized tensor → the tensor at the root of its class (the one calibrated; the others share its scale). */
    private final Map<String, String> classRoot = new LinkedHashMap<>();
    /** ReLUs that fold into their output's quantization. */
    private final Set<Node> foldedRelus = new HashSet<>();
    private final Map<String, Integer> prepared;

    private QdqRewrite(ModelProto source, EditableGraph graph, Map<String, Integer> prepared) {
        this.graph = graph;
        this.prepared = Map.copyOf(prepared);
        this.fp32 = source.toBuilder().setGraph(graph.toProto()).build();
    }

    /**
     * Folds the float model (batch norms and constant scales into convolutions) and decides what is
     * quantized.
     *
     * @param keepFp32 layers to leave in float: node names, or the prefix before a '/' or '.' of
     *                 their names ({@code fc3} keeps {@code fc3/Gemm}; {@code layer4} every node in it)
     * @throws ZooException when the model is quantized already, is not FP32, has an opset before 13,
     *                      or a layer to keep names no node
     */
    public static QdqRewrite plan(ModelProto model, Collection<String> keepFp32) {
        requireFloat(model);
        EditableGraph g = new EditableGraph(model.getGraph());
        Map<String, Integer> prepared = FloatPreparation.prepare(g);
        QdqRewrite r = new QdqRewrite(model, g, prepared);
        r.assignRoles(keepFp32);
        r.chooseTensors();
        return r;
    }

    /**
     * Refuses what the quantizer cannot take: a model quantized already, one with an opset before
     * 13, one whose input or weights are not FP32.
     *
     * @throws ZooException naming the problem
     */
    public static void requireFloat(ModelProto model) {
        int opset = model.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToInt(o -> (int) o.getVersion()).max().orElse(0);
        if (opset < MIN_OPSET) {
            throw new ZooException("the model uses opset " + opset + "; quantization writes per-channel QuantizeLinear/DequantizeLinear, "
                    + "which need opset " + MIN_OPSET + " or later (export the model again with opset ≥ " + MIN_OPSET + ")");
        }
        Map<String, Integer> quantizedOps = new TreeMap<>();
        model.getGraph().getNodeList().stream().filter(n -> OpRoles.isQuantizedOp(n.getOpType()))
                .forEach(n -> quantizedOps.merge(n.getOpType(), 1, Integer::sum));
        boolean marked = model.getMetadataPropsList().stream().anyMatch(e -> e.getKey().equals(METADATA_KEY));
        if (!quantizedOps.isEmpty() || marked) {
            throw new ZooException("the model is quantized already" + (quantizedOps.isEmpty() ? " (its metadata records a quantization)"
                    : " (it has " + describeCounts(quantizedOps) + ")") + "; quantize its float model instead");
        }
        for (ValueInfoProto in : model.getGraph().getInputList()) {
            int type = in.getType().getTensorType().getElemType();
            if (in.getType().hasTensorType() && OnnxFiles.isFloating(type) && type != TensorProto.DataType.FLOAT_VALUE) {
                throw new ZooException("the model's input '" + in.getName() + "' is " + TensorProto.DataType.forNumber(type)
                        + "; the quantizer takes FP32 models");
            }
        }
        for (TensorProto t : model.getGraph().getInitializerList()) {
            if (OnnxFiles.isFloating(t.getDataType()) && t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
                throw new ZooException("the model's weight '" + t.getName() + "' is " + TensorProto.DataType.forNumber(t.getDataType())
                        + "; the quantizer takes FP32 models");
            }
        }
    }

    /** The float model as calibrated: the source with its foldable nodes folded; computes the same function. */
    public ModelProto fp32() {
        return fp32;
    }

    /**
     * How the float model was rewritten before quantization, each rewrite keeping its function:
     * "batch norms folded into convolutions" → 53, say.
     */
    public Map<String, Integer> preparation() {
        return new TreeMap<>(prepared);
    }

    /** The tensors whose ranges calibration must find, in graph order. */
    public List<String> calibrationTensors() {
        return List.copyOf(new LinkedHashSet<>(classRoot.values()));
    }

    /** Nodes left in float, in graph order, with their reasons. */
    public List<Fp32Node> fp32Nodes() {
        List<Fp32Node> out = new ArrayList<>();
        for (Node n : graph.nodes) {
            String reason = fp32Reasons.get(n);
            if (reason != null && !foldedRelus.contains(n)) {
                out.add(new Fp32Node(n.name, n.op, reason, unknown.contains(n)));
            }
        }
        return out;
    }

    /** How many nodes of each op run quantized (weighted, arithmetic and data movement), by op. */
    public Map<String, Integer> quantizedOps() {
        Map<String, Integer> m = new TreeMap<>();
        for (Node n : graph.nodes) {
            OpRoles role = roles.get(n);
            boolean onQuantized = role == OpRoles.PASS_THROUGH && classRoot.containsKey(n.outputs.get(0));
            if (role == OpRoles.WEIGHTED || role == OpRoles.ARITHMETIC || onQuantized) {
                m.merge(n.op, 1, Integer::sum);
            }
        }
        return m;
    }

    // ---------------------------------------------------------------- planning

    private void assignRoles(Collection<String> keepFp32) {
        Set<String> unmatched = new LinkedHashSet<>(keepFp32);
        for (Node n : graph.nodes) {
            String kept = keepFp32.stream().filter(layer -> matches(n.name, layer)).findFirst().orElse(null);
            if (kept != null) {
                unmatched.remove(kept);
                this.kept.add(n);
                roles.put(n, OpRoles.FP32);
                fp32Reasons.put(n, "kept in float as asked (layer '" + kept + "')");
                continue;
            }
            OpRoles role = OpRoles.of(n.op, n.domain);
            String why = role == OpRoles.WEIGHTED ? weightedObstacle(n) : role == OpRoles.ARITHMETIC ? arithmeticObstacle(n)
                    : role == OpRoles.PASS_THROUGH ? passThroughObstacle(n) : null;
            if (why != null) {
                role = OpRoles.FP32;
            } else if (role == OpRoles.FP32) {
                why = OpRoles.fp32Reason(n.op, n.domain);
                if (why == null) {
                    unknown.add(n);
                    why = "the quantizer does not know " + (n.domain.isEmpty() ? "" : n.domain + ".") + n.op + "; left in float";
                }
            }
            roles.put(n, role);
            if (role == OpRoles.FP32) {
                fp32Reasons.put(n, why);
            }
        }
        if (!unmatched.isEmpty()) {
            throw new ZooException("no layer of the model is named " + String.join(", ", unmatched) + " (layers to keep in float are node names "
                    + "or their prefixes, e.g. " + String.join(", ", exampleLayers()) + ")");
        }
    }

    /** A node name matches a layer when equal to it or when the layer is a prefix ending at '/' or '.'. */
    private static boolean matches(String node, String layer) {
        String n = node.startsWith("/") ? node.substring(1) : node;
        String l = layer.startsWith("/") ? layer.substring(1) : layer;
        return n.equals(l) || (n.startsWith(l) && (n.charAt(l.length()) == '/' || n.charAt(l.length()) == '.'));
    }

    private List<String> exampleLayers() {
        return graph.nodes.stream().filter(n -> OpRoles.of(n.op, n.domain) == OpRoles.WEIGHTED).map(n -> {
            int slash = n.name.indexOf('/', 1);
            return slash > 0 ? n.name.substring(0, slash) : n.name;
        }).distinct().limit(4).toList();
    }

    private String weightedObstacle(Node n) {
        if (n.isOnnx("MatMul")) {
            if (graph.isInitializer(n.input(0))) {
                return "its first operand is a constant";
            }
            if (!graph.isInitializer(n.input(1))) {
                return null;        // two activations: QLinearMatMul of two uint8 operands
            }
            return rank(n.input(1)) == 2 && FloatPreparation.isFloatInitializer(graph, n.input(1)) ? null
                    : "its weight is not a 2-D float constant";
        }
        if (graph.isInitializer(n.input(0))) {
            return "its input is a constant";
        }
        if (!FloatPreparation.hasConstantWeights(graph, n)) {
            return "its weights are not float constants";
        }
        if (n.isOnnx("Conv")) {
            return rank(n.input(1)) >= 3 ? null : "its weight has rank " + rank(n.input(1));
        }
        // Gemm: ONNX Runtime's QGemm takes beta only as 1 with a bias; alpha scales the int32 accumulator, which the bias shares.
        if (rank(n.input(1)) != 2) {
            return "its weight is not 2-D";
        }
        if (n.floatAttribute("alpha", 1f) != 1f) {
            return "alpha ≠ 1";
        }
        if (!n.input(2).isEmpty()) {
            if (n.floatAttribute("beta", 1f) != 1f) {
                return "beta ≠ 1";
            }
            long outputs = graph.initializers.get(n.input(1)).getDims(n.intAttribute("transB", 0) == 1 ? 0 : 1);
            TensorProto c = graph.initializers.get(n.input(2));
            if (c.getDimsCount() != 1 || c.getDims(0) != outputs) {
                return "its bias is not one value per output";
            }
        }
        return null;
    }

    private String arithmeticObstacle(Node n) {
        for (String in : n.inputs) {
            if (in.isEmpty() || graph.isInitializer(in)) {
                return "an operand is a constant (ONNX Runtime's integer " + n.op + " takes two activations)";
            }
        }
        if ((n.isOnnx("Add") || n.isOnnx("Mul")) && n.inputs.size() != 2) {
            return "it has " + n.inputs.size() + " operands";
        }
        if (n.isOnnx("AveragePool") && n.outputs.size() != 1) {
            return "it has several outputs";
        }
        return null;
    }

    private String passThroughObstacle(Node n) {
        if (n.outputs.size() != 1) {
            return n.op + " with several outputs (max pooling's indices) has no integer form";
        }
        return graph.isInitializer(n.input(0)) ? "it moves a constant" : null;
    }

    private int rank(String initializer) {
        return graph.initializers.get(initializer).getDimsCount();
    }

    /** Inputs of a quantized node that are activations (quantized), as opposed to its weights and bias. */
    private List<String> activationInputs(Node n) {
        if (hasWeights(n)) {
            return List.of(n.input(0));
        }
        return n.inputs.stream().filter(i -> !i.isEmpty()).toList();
    }

    /** Whether a node's weights are constants it multiplies by (not a MatMul of two activations). */
    private boolean hasWeights(Node n) {
        return roles.get(n) == OpRoles.WEIGHTED && !(n.isOnnx("MatMul") && !graph.isInitializer(n.input(1)));
    }

    /**
     * Chooses the tensors to quantize: the activation inputs of quantized nodes; the outputs of
     * convolutions and arithmetic nodes (their integer kernels write uint8), or of the ReLU after
     * them; tensors joined through data-movement nodes share one quantization.
     */
    private void chooseTensors() {
        Map<String, Node> producers = graph.producers();
        while (true) {
            chooseTensorsOnce();
            List<Node> floatPools = new ArrayList<>();
            for (Node n : graph.nodes) {
                if (n.isOnnx("MaxPool") && roles.get(n) == OpRoles.PASS_THROUGH && classRoot.containsKey(n.outputs.get(0))
                        && !fromIntegerKernel(classRoot.get(n.outputs.get(0)), producers)) {
                    floatPools.add(n);
                }
            }
            if (floatPools.isEmpty()) {
                return;
            }
            for (Node n : floatPools) {
                roles.put(n, OpRoles.FP32);
                fp32Reasons.put(n, FLOAT_POOL);
            }
            classRoot.clear();
            foldedRelus.clear();
        }
    }

    /**
     * Max pooling of a tensor a float layer wrote stays in float, reading the float tensor. ONNX
     * Runtime runs uint8 max pooling fast only inside its channels-last chains of integer kernels
     * (NhwcMaxPool); next to a float layer it is a plain NCHW loop: GoogLeNet's two pools after its
     * float LRN took 48 ms that way against 1 ms for all thirteen pools in float (ORT 1.24 profile,
     * batch 1, two threads). Both must read the float tensor itself, or ONNX Runtime's QDQ
     * propagation moves the QuantizeLinear in front of them and makes them uint8 again.
     */
    private static final String FLOAT_POOL = "its input comes from a float layer; ONNX Runtime's float max pooling is faster there than "
            + "its integer one, which is fast only between integer kernels";

    /** Whether a quantized tensor is written by an integer kernel (a quantized node, or one with a ReLU folded after it). */
    private boolean fromIntegerKernel(String root, Map<String, Node> producers) {
        Node p = producers.get(root);
        if (p != null && foldedRelus.contains(p)) {
            p = producers.get(p.input(0));
        }
        return p != null && (roles.get(p) == OpRoles.WEIGHTED || roles.get(p) == OpRoles.ARITHMETIC);
    }

    /**
     * Whether the float value of a quantized tensor stays in the graph beside its uint8 form, so
     * float layers can read it rather than a dequantized copy: a graph input, a constant, or the
     * output of a float layer (not of an integer kernel, which writes uint8 only, nor of a ReLU
     * folded into the quantization, whose float input is not yet rectified).
     */
    private boolean floatValueKept(String root) {
        Node p = graph.producers().get(root);
        return p == null || (roles.get(p) == OpRoles.FP32 && !foldedRelus.contains(p));
    }

    private void chooseTensorsOnce() {
        Map<String, List<Node>> consumers = graph.consumers();
        Set<String> wanted = new LinkedHashSet<>();
        for (Node n : graph.nodes) {
            OpRoles role = roles.get(n);
            if (role != OpRoles.WEIGHTED && role != OpRoles.ARITHMETIC) {
                continue;
            }
            wanted.addAll(activationInputs(n));
            String y = n.outputs.get(0);
            Node relu = soleRelu(y, consumers);
            if (relu != null) {
                wanted.add(relu.outputs.get(0));
            } else if ((n.isOnnx("Conv") || role == OpRoles.ARITHMETIC) && !graph.isGraphOutput(y)) {
                wanted.add(y);
            }
        }
        // Classes: tensors linked by data-movement nodes share one scale and zero point.
        Map<String, String> parent = new HashMap<>();
        for (Node n : graph.nodes) {
            if (roles.get(n) == OpRoles.PASS_THROUGH) {
                union(parent, n.input(0), n.outputs.get(0));
            }
        }
        Set<String> quantizedClasses = new HashSet<>();
        wanted.forEach(t -> quantizedClasses.add(find(parent, t)));
        Map<String, Node> producers = graph.producers();
        Map<String, String> rootOf = new HashMap<>();
        List<String> tensors = new ArrayList<>();
        graph.inputs().forEach(v -> tensors.add(v.getName()));
        tensors.addAll(graph.initializers.keySet());
        graph.nodes.forEach(n -> tensors.addAll(n.outputs));
        for (String t : tensors) {
            String c = find(parent, t);
            if (!quantizedClasses.contains(c)) {
                continue;
            }
            Node p = producers.get(t);
            if (p == null || roles.get(p) != OpRoles.PASS_THROUGH) {
                rootOf.put(c, t);
            }
        }
        for (String t : tensors) {
            String c = find(parent, t);
            if (quantizedClasses.contains(c)) {
                classRoot.put(t, rootOf.get(c));
            }
        }
        // A ReLU folds into the quantization of its output when its input feeds nothing else.
        for (Node n : graph.nodes) {
            if (!n.isOnnx("Relu") || roles.get(n) != OpRoles.FP32 || kept.contains(n)) {
                continue;
            }
            String t = n.input(0);
            String r = n.outputs.get(0);
            Node p = producers.get(t);
            boolean rootOutput = r.equals(classRoot.get(r));
            if (rootOutput && p != null && roles.get(p) != OpRoles.PASS_THROUGH && !classRoot.containsKey(t)
                    && consumers.getOrDefault(t, List.of()).size() == 1 && !graph.isGraphOutput(t)) {
                foldedRelus.add(n);
            }
        }
    }

    /** The ReLU that alone reads {@code y}, when there is one and it is not kept in float. */
    private Node soleRelu(String y, Map<String, List<Node>> consumers) {
        List<Node> readers = consumers.getOrDefault(y, List.of());
        if (readers.size() != 1 || graph.isGraphOutput(y)) {
            return null;
        }
        Node r = readers.get(0);
        return r.isOnnx("Relu") && !kept.contains(r) && !graph.isGraphOutput(r.outputs.get(0)) ? r : null;
    }

    private static String find(Map<String, String> parent, String t) {
        String p = parent.getOrDefault(t, t);
        if (p.equals(t)) {
            return t;
        }
        String root = find(parent, p);
        parent.put(t, root);
        return root;
    }

    private static void union(Map<String, String> parent, String a, String b) {
        String ra = find(parent, a);
        String rb = find(parent, b);
        if (!ra.equals(rb)) {
            parent.put(rb, ra);
        }
    }

    // ---------------------------------------------------------------- rewriting

    /**
     * The QDQ model: the float model with quantized weights and QuantizeLinear/DequantizeLinear
     * nodes placed from the calibrated ranges, and {@code metadata} added to its metadata_props.
     *
     * @param ranges a range for every tensor of {@link #calibrationTensors()}
     */
    public ModelProto quantize(Map<String, TensorRange> ranges, Map<String, String> metadata) {
        return quantize(ranges, metadata, false);
    }

    /**
     * As {@link #quantize(Map, Map)}; with {@code reduceRange} the weights use 7 bits (±63), for
     * x86 CPUs without VNNI, whose uint8×int8 kernels add pairs of products in 16 bits.
     */
    public ModelProto quantize(Map<String, TensorRange> ranges, Map<String, String> metadata, boolean reduceRange) {
        for (String t : calibrationTensors()) {
            if (!ranges.containsKey(t)) {
                throw new IllegalArgumentException("no calibrated range for tensor '" + t + "'");
            }
        }
        return new Writer(ranges, reduceRange ? WeightQuantizer.REDUCED_LEVELS : WeightQuantizer.LEVELS).write(metadata);
    }

    /** Writes one quantized graph; a fresh copy of the float graph each time. */
    private final class Writer {
        private final EditableGraph out = new EditableGraph(fp32.getGraph());
        private final Map<String, QuantParams> params = new HashMap<>();
        /** Quantized tensor → its uint8 name. */
        private final Map<String, String> uint8Name = new HashMap<>();
        /** Initializer names of each class's scale and zero point. */
        private final Map<String, String[]> paramNames = new HashMap<>();
        /** Per weight initializer: its int8 tensor's, scale's and zero point's names and scales. */
        private final Map<String, QuantizedWeight> weights = new HashMap<>();
        private final List<Node> emitted = new ArrayList<>();
        private final Map<String, ValueInfoProto> infos = new LinkedHashMap<>();
        /** Quantized tensors whose float value stays in the graph too. */
        private final Set<String> floatKept = new HashSet<>();
        /** The largest weight magnitude in steps: 127, or 63 for a reduced range. */
        private final int weightLevels;

        private record QuantizedWeight(String values, String scale, String zeroPoint, float[] scales, int axis) {
        }

        Writer(Map<String, TensorRange> ranges, int weightLevels) {
            this.weightLevels = weightLevels;
            for (String root : new LinkedHashSet<>(classRoot.values())) {
                if (floatValueKept(root)) {
                    floatKept.add(root);
                }
            }
            for (String root : new LinkedHashSet<>(classRoot.values())) {
                params.put(root, ranges.get(root).uint8());
            }
            for (String t : classRoot.keySet()) {
                uint8Name.put(t, out.freshName(t + "_quantized"));
            }
            infos.putAll(out.valueInfo);
            fp32.getGraph().getInputList().forEach(v -> infos.putIfAbsent(v.getName(), v));
            fp32.getGraph().getOutputList().forEach(v -> infos.putIfAbsent(v.getName(), v));
        }

        ModelProto write(Map<String, String> metadata) {
            // Nodes of the float graph by position (the writer's copy has equal nodes in the same order).
            List<Node> planned = graph.nodes;
            List<Node> copies = List.copyOf(out.nodes);
            for (String t : classRoot.keySet()) {
                boolean sourceTensor = out.isGraphInput(t) || out.isInitializer(t);
                if (sourceTensor && classRoot.get(t).equals(t)) {
                    quantizeLinear(t);
                }
            }
            Map<String, String> renamedByFold = new HashMap<>();
            for (int i = 0; i < copies.size(); i++) {
                Node plannedNode = planned.get(i);
                Node n = copies.get(i);
                if (foldedRelus.contains(plannedNode)) {
                    continue;
                }
                // The node whose output a folded ReLU read writes the ReLU's output instead.
                for (int k = 0; k < n.outputs.size(); k++) {
                    String o = n.outputs.get(k);
                    for (Node relu : foldedRelus) {
                        if (relu.input(0).equals(o)) {
                            renamedByFold.put(o, relu.outputs.get(0));
                            n.outputs.set(k, relu.outputs.get(0));
                        }
                    }
                }
                OpRoles role = roles.get(plannedNode);
                rewriteInputs(n, plannedNode, role);
                emitted.add(n);
                for (String o : n.outputs) {
                    if (!classRoot.containsKey(o)) {
                        continue;
                    }
                    if (role == OpRoles.PASS_THROUGH && !classRoot.get(o).equals(o)) {
                        n.outputs.set(n.outputs.indexOf(o), uint8Name.get(o));
                        addInfo(uint8Name.get(o), o, TensorProto.DataType.UINT8_VALUE);
                        if (out.isGraphOutput(o)) {
                            dequantizeLinear(o, o);
                        }
                    } else {
                        quantizeLinear(o);
                    }
                }
            }
            renamedByFold.keySet().forEach(infos::remove);
            out.nodes.clear();
            out.nodes.addAll(emitted);
            out.valueInfo.clear();
            out.valueInfo.putAll(infos);
            out.dropUnusedInitializers();
            ModelProto.Builder m = fp32.toBuilder().setGraph(out.toProto());
            ensureOpset(m);
            metadata.forEach((k, v) -> {
                m.getMetadataPropsList().stream().filter(e -> e.getKey().equals(k)).findFirst()
                        .ifPresent(e -> m.removeMetadataProps(m.getMetadataPropsList().indexOf(e)));
                m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v));
            });
            return m.build();
        }

        /** Points a node's inputs at dequantized activations, weights and biases, or at uint8 tensors for data movement. */
        private void rewriteInputs(Node n, Node planned, OpRoles role) {
            if (role == OpRoles.PASS_THROUGH) {
                String x = n.input(0);
                if (classRoot.containsKey(x) && classRoot.containsKey(n.outputs.get(0))) {
                    n.inputs.set(0, uint8Name.get(x));
                    return;
                }
            }
            boolean weighted = role == OpRoles.WEIGHTED && hasWeights(planned);
            List<String> original = List.copyOf(n.inputs);
            QuantizedWeight weight = null;
            for (int k = 0; k < n.inputs.size(); k++) {
                String x = n.inputs.get(k);
                if (x.isEmpty()) {
                    continue;
                }
                if (weighted && k == 1) {
                    weight = weights.computeIfAbsent(x, w -> quantizeWeight(n, original));
                    n.inputs.set(1, dequantizedWeight(weight, x));
                } else if (weighted && k == 2) {
                    n.inputs.set(2, dequantizedBias(n, x, weight, inputScale(original)));
                } else if (classRoot.containsKey(x) && role == OpRoles.FP32 && x.equals(classRoot.get(x)) && floatKept.contains(x)) {
                    continue;       // a float layer reads the float tensor itself
                } else if (classRoot.containsKey(x)) {
                    String dq = out.freshName(x + "_dequantized");
                    dequantizeLinear(x, dq);
                    n.inputs.set(k, dq);
                }
            }
        }

        private float inputScale(List<String> inputs) {
            return params.get(classRoot.get(inputs.get(0))).scale();
        }

        /** The axis of a weight that holds its output channels. */
        private int channelAxis(Node n) {
            if (n.isOnnx("Conv")) {
                return 0;
            }
            if (n.isOnnx("Gemm")) {
                return n.intAttribute("transB", 0) == 1 ? 0 : 1;
            }
            return 1;       // MatMul: B is K×N
        }

        private String dequantizedWeight(QuantizedWeight q, String w) {
            String dq = out.freshName(w + "_dequantized");
            emitted.add(new Node(out.freshName(w + "_DequantizeLinear"), "DequantizeLinear", "", List.of(q.values, q.scale, q.zeroPoint),
                    List.of(dq), List.of(axis(q.axis))));
            addInfo(dq, w, TensorProto.DataType.FLOAT_VALUE);
            return dq;
        }

        /** Int8 per-channel weights of node {@code n} (inputs as in the float graph), with their scales. */
        private QuantizedWeight quantizeWeight(Node n, List<String> inputs) {
            String w = inputs.get(1);
            TensorProto t = out.initializers.get(w);
            long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
            int axis = channelAxis(n);
            float[] bias = inputs.size() < 3 || inputs.get(2).isEmpty() ? null : OnnxFiles.floats(out.initializers.get(inputs.get(2)));
            WeightQuantizer.PerChannel q = WeightQuantizer.quantize(OnnxFiles.floats(t), dims, axis, bias, inputScale(inputs),
                    weightLevels);
            String values = out.freshName(w + "_quantized");
            String scale = out.freshName(w + "_scale");
            String zero = out.freshName(w + "_zero_point");
            out.initializers.put(values, OnnxFiles.tensor(values, TensorProto.DataType.INT8_VALUE, dims, q.values()));
            out.initializers.put(scale, OnnxFiles.floatTensor(scale, new long[] {q.scales().length}, q.scales()));
            out.initializers.put(zero, OnnxFiles.tensor(zero, TensorProto.DataType.INT8_VALUE, new long[] {q.scales().length},
                    new byte[q.scales().length]));
            return new QuantizedWeight(values, scale, zero, q.scales(), axis);
        }

        /** The bias as int32 at input scale × weight scale per channel, dequantized for the node. */
        private String dequantizedBias(Node n, String b, QuantizedWeight w, float inputScale) {
            float[] scales = new float[w.scales.length];
            int[] q = WeightQuantizer.quantizeBias(OnnxFiles.floats(out.initializers.get(b)), inputScale, w.scales, scales);
            ByteBuffer raw = ByteBuffer.allocate(q.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            raw.asIntBuffer().put(q);
            String values = out.freshName(b + "_quantized");
            String scale = out.freshName(b + "_scale");
            out.initializers.put(values, OnnxFiles.tensor(values, TensorProto.DataType.INT32_VALUE, new long[] {q.length}, raw.array()));
            out.initializers.put(scale, OnnxFiles.floatTensor(scale, new long[] {q.length}, scales));
            String dq = out.freshName(b + "_dequantized");
            emitted.add(new Node(out.freshName(b + "_DequantizeLinear"), "DequantizeLinear", "", List.of(values, scale), List.of(dq),
                    List.of(axis(0))));
            addInfo(dq, b, TensorProto.DataType.FLOAT_VALUE);
            return dq;
        }

        private void quantizeLinear(String t) {
            String[] p = paramNamesOf(classRoot.get(t));
            emitted.add(new Node(out.freshName(t + "_QuantizeLinear"), "QuantizeLinear", "", List.of(t, p[0], p[1]),
                    List.of(uint8Name.get(t)), List.of()));
            addInfo(uint8Name.get(t), t, TensorProto.DataType.UINT8_VALUE);
        }

        private void dequantizeLinear(String t, String result) {
            String[] p = paramNamesOf(classRoot.get(t));
            emitted.add(new Node(out.freshName(t + "_DequantizeLinear"), "DequantizeLinear", "", List.of(uint8Name.get(t), p[0], p[1]),
                    List.of(result), List.of()));
            if (!result.equals(t)) {
                addInfo(result, t, TensorProto.DataType.FLOAT_VALUE);
            }
        }

        /** The scalar scale and zero-point initializers of a class, made on first use. */
        private String[] paramNamesOf(String root) {
            return paramNames.computeIfAbsent(root, r -> {
                QuantParams q = params.get(r);
                String scale = out.freshName(r + "_scale");
                String zero = out.freshName(r + "_zero_point");
                out.initializers.put(scale, OnnxFiles.floatTensor(scale, new long[0], new float[] {q.scale()}));
                out.initializers.put(zero, OnnxFiles.tensor(zero, TensorProto.DataType.UINT8_VALUE, new long[0], new byte[] {(byte) q.zeroPoint()}));
                return new String[] {scale, zero};
            });
        }

        /** A value info for {@code name} with the shape {@code like} has, when its shape is known. */
        private void addInfo(String name, String like, int elemType) {
            ValueInfoProto v = infos.get(like);
            if (v == null || !v.getType().hasTensorType()) {
                return;
            }
            TypeProto type = v.getType().toBuilder().setTensorType(v.getType().getTensorType().toBuilder().setElemType(elemType)).build();
            infos.put(name, ValueInfoProto.newBuilder().setName(name).setType(type).build());
        }

        private AttributeProto axis(int axis) {
            return AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(axis).build();
        }

        private void ensureOpset(ModelProto.Builder m) {
            boolean has = m.getOpsetImportList().stream().anyMatch(o -> (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                    && o.getVersion() >= MIN_OPSET);
            if (!has) {
                m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(MIN_OPSET));
            }
        }
    }

    private static String describeCounts(Map<String, Integer> counts) {
        List<String> parts = new ArrayList<>();
        counts.forEach((op, c) -> parts.add(c + " " + op));
        return String.join(", ", parts);
    }
}
