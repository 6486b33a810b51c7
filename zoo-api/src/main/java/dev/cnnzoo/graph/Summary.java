package dev.cnnzoo.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Figures computed from a graph, per layer and in total: output shapes, trainable parameters,
 * multiply-accumulates, and activation memory.
 *
 * <p>MACs count the multiply-accumulates of convolutions, transposed convolutions and dense
 * layers per image, the convention behind torchvision's and fvcore's figures (ResNet-50: 4.1 G);
 * biases, normalisation, activations and pooling are not counted.
 *
 * <p>Activation memory follows the reasoning of Géron, <i>Hands-On Machine Learning</i> (2nd ed., ch. 14). At inference a tensor can be
 * freed once its last consumer has run, so the need is the peak of the live tensors over the
 * forward pass (for a chain of layers, two consecutive outputs). In training every activation is
 * kept for the backward pass, so the need is the sum of the input and every node's output.
 * Reshapes, flattens and identities are views and take no memory of their own. Weights are
 * counted apart ({@link #weightBytes()}).
 */
public final class Summary {
    /** One layer: its scope path, the operators it holds, its output shape, parameters and MACs per image. */
    public record Row(String layer, String ops, Shape output, long parameters, long macs) {
    }

    private static final Set<Op> VIEWS = EnumSet.of(Op.RESHAPE, Op.FLATTEN, Op.SQUEEZE, Op.UNSQUEEZE, Op.IDENTITY, Op.DROPOUT);

    private final Graph graph;
    private final List<Row> rows;

    private Summary(Graph graph) {
        this.graph = graph;
        this.rows = group(Integer.MAX_VALUE);
    }

    public static Summary of(Graph graph) {
        return new Summary(graph);
    }

    /** One row per layer, in the order the layers run. */
    public List<Row> rows() {
        return rows;
    }

    /**
     * Rows grouped by the first {@code depth} components of the layer path: depth 1 of a ResNet
     * gives conv1, bn1, ..., layer1, layer2...; depth 2 gives each residual unit.
     */
    public List<Row> rows(int depth) {
        return group(depth);
    }

    /** Trainable scalars (torchvision's count). */
    public long parameters() {
        return graph.trainableParameterCount();
    }

    /** Non-trainable state scalars (batch-norm running statistics). */
    public long stateScalars() {
        return graph.parameters().values().stream().filter(p -> !p.trainable()).mapToLong(p -> p.shape().elements()).sum();
    }

    /** Multiply-accumulates for one image. */
    public long macs() {
        return rows.stream().mapToLong(Row::macs).sum();
    }

    /** Bytes of parameters and state. */
    public long weightBytes() {
        return graph.parameters().values().stream()
                .mapToLong(p -> p.shape().elements() * p.value().dtype().bytes()).sum();
    }

    /**
     * Peak bytes of live activations (graph inputs included) during one forward pass at {@code batch},
     * executing the nodes in graph order and freeing each tensor after its last consumer.
     */
    public long inferenceActivationBytes(int batch) {
        Map<Value, Value> buffer = new IdentityHashMap<>();
        Map<Value, Integer> lastUse = new IdentityHashMap<>();
        List<Node> nodes = graph.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            for (Value v : n.inputs()) {
                if (v != null && isActivation(v)) {
                    lastUse.put(buffer.getOrDefault(v, v), i);
                }
            }
            if (VIEWS.contains(n.operator()) && isActivation(n.input(0))) {
                Value root = buffer.getOrDefault(n.input(0), n.input(0));
                n.outputs().forEach(o -> buffer.put(o, root));
            }
        }
        Set<Value> pinned = Collections.newSetFromMap(new IdentityHashMap<>());
        graph.outputs().forEach(o -> pinned.add(buffer.getOrDefault(o.value(), o.value())));
        // Tensors by the node after which they die, so each step frees its own (linear in the graph's size).
        List<List<Value>> freedAfter = new ArrayList<>(Collections.nCopies(nodes.size(), List.of()));
        lastUse.forEach((v, i) -> {
            if (freedAfter.get(i).isEmpty()) {
                freedAfter.set(i, new ArrayList<>());
            }
            freedAfter.get(i).add(v);
        });
        Map<Value, Long> live = new IdentityHashMap<>();
        graph.inputs().forEach(v -> live.put(v, bytes(v, batch)));
        long current = live.values().stream().mapToLong(Long::longValue).sum();
        long peak = current;
        for (int i = 0; i < nodes.size(); i++) {
            for (Value o : nodes.get(i).outputs()) {
                if (!buffer.containsKey(o)) {
                    live.put(o, bytes(o, batch));
                    current += bytes(o, batch);
                }
            }
            peak = Math.max(peak, current);
            for (Value v : freedAfter.get(i)) {
                if (!pinned.contains(v) && live.containsKey(v)) {
                    current -= live.remove(v);
                }
            }
        }
        return peak;
    }

    /** Bytes of the inputs and every activation kept for the backward pass at {@code batch}. */
    public long trainingActivationBytes(int batch) {
        long total = graph.inputs().stream().mapToLong(v -> bytes(v, batch)).sum();
        for (Node n : graph.nodes()) {
            if (!VIEWS.contains(n.operator())) {
                total += n.outputs().stream().mapToLong(v -> bytes(v, batch)).sum();
            }
        }
        return total;
    }

    /** A text table of the rows at {@code depth}, with totals. */
    public String table(int depth) {
        List<Row> shown = rows(depth);
        int w = Math.max(5, shown.stream().mapToInt(r -> r.layer().length()).max().orElse(5));
        int ow = Math.max(6, Math.min(32, shown.stream().mapToInt(r -> r.ops().length()).max().orElse(6)));
        StringBuilder sb = new StringBuilder();
        String fmt = "%-" + w + "s  %-" + ow + "s  %-18s %14s %16s%n";
        sb.append(String.format(fmt, "layer", "ops", "output", "parameters", "MACs"));
        for (Row r : shown) {
            String ops = r.ops().length() > ow ? r.ops().substring(0, ow - 1) + "…" : r.ops();
            sb.append(String.format(fmt, r.layer(), ops, r.output(), String.format("%,d", r.parameters()), String.format("%,d", r.macs())));
        }
        sb.append(String.format(fmt, "total", "", "", String.format("%,d", parameters()), String.format("%,d", macs())));
        return sb.toString();
    }

    /** A text table of the graph's feature stages (timm's {@code feature_info}): name, layer, channels, reduction, shape. */
    public String featureStageTable() {
        List<FeatureStage> stages = graph.featureStages();
        int w = Math.max(5, stages.stream().mapToInt(s -> s.layer().length()).max().orElse(5));
        String fmt = "%-7s  %-" + w + "s  %8s  %9s  %s%n";
        StringBuilder sb = new StringBuilder(String.format(fmt, "stage", "layer", "channels", "reduction", "output"));
        for (FeatureStage s : stages) {
            sb.append(String.format(fmt, s.name(), s.layer(), s.channels(), s.reduction(), s.value().shape()));
        }
        return sb.toString();
    }

    // ---- internals -------------------------------------------------------------------------

    private List<Row> group(int depth) {
        Map<String, List<Node>> byLayer = new LinkedHashMap<>();
        for (Node n : graph.nodes()) {
            byLayer.computeIfAbsent(prefix(n.layer(), depth), k -> new ArrayList<>()).add(n);
        }
        Set<Value> counted = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Row> out = new ArrayList<>();
        for (Map.Entry<String, List<Node>> e : byLayer.entrySet()) {
            long params = 0;
            long macs = 0;
            Set<String> ops = new LinkedHashSet<>();
            for (Node n : e.getValue()) {
                ops.add(n.op());
                macs += macs(n);
                for (Value v : n.inputs()) {
                    if (v != null && v.kind() == Value.Kind.PARAMETER && counted.add(v)) {
                        params += v.shape().elements();
                    }
                }
            }
            Node last = e.getValue().get(e.getValue().size() - 1);
            out.add(new Row(e.getKey(), String.join("+", ops), last.output().shape(), params, macs));
        }
        return out;
    }

    private static String prefix(String layer, int depth) {
        if (depth == Integer.MAX_VALUE) {
            return layer;
        }
        String[] parts = layer.split("\\.");
        return parts.length <= depth ? layer : String.join(".", java.util.Arrays.copyOf(parts, depth));
    }

    /** MACs of one node for one image. */
    static long macs(Node n) {
        return switch (n.operator()) {
            case CONV -> {
                Shape w = n.input(1).shape();
                yield perSample(n.output().shape()) * (w.elements() / w.dim(0));
            }
            case CONV_TRANSPOSE -> {
                Shape w = n.input(1).shape();
                yield perSample(n.input(0).shape()) * (w.elements() / w.dim(0));
            }
            case GEMM -> {
                boolean ta = n.attributes().getInt("transA", 0) == 1;
                int k = n.input(0).shape().dim(ta ? 0 : 1);
                yield perSample(n.output().shape()) * k;
            }
            case MAT_MUL -> perSample(n.output().shape()) * n.input(0).shape().dim(-1);
            default -> 0;
        };
    }

    private static long perSample(Shape s) {
        return s.elements(1);
    }

    private static boolean isActivation(Value v) {
        return v.kind() == Value.Kind.INPUT || v.kind() == Value.Kind.ACTIVATION;
    }

    private static long bytes(Value v, int batch) {
        return v.shape().elements(batch) * v.dtype().bytes();
    }
}
