package dev.cnnzoo.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A network as a graph of ONNX operators: inputs, nodes in topological order, named parameters and
 * constants, and outputs. Immutable; made by {@link GraphBuilder}.
 */
public final class Graph {
    /** A graph output. Auxiliary outputs (GoogLeNet's side classifiers) exist for training only. */
    public record Output(Value value, boolean auxiliary) {
        public String name() {
            return value.name();
        }
    }

    private final String name;
    private final List<Value> inputs;
    private final List<Node> nodes;
    private final List<Output> outputs;
    private final Map<String, Parameter> parameters;
    private final Map<String, Tensor> constants;
    private final List<FeatureStage> featureStages;
    private final Map<String, Value> values;
    private final Map<Value, Node> producers = new IdentityHashMap<>();
    private final Map<Value, List<Node>> consumers = new IdentityHashMap<>();

    Graph(String name, List<Value> inputs, List<Node> nodes, List<Output> outputs,
            Map<String, Parameter> parameters, Map<String, Tensor> constants, List<FeatureStage> featureStages) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.nodes = List.copyOf(nodes);
        this.outputs = List.copyOf(outputs);
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        this.constants = Collections.unmodifiableMap(new LinkedHashMap<>(constants));
        this.featureStages = List.copyOf(featureStages);
        Map<String, Value> byName = new HashMap<>();
        inputs.forEach(v -> byName.put(v.name(), v));
        parameters.values().forEach(p -> byName.put(p.name(), p.value()));
        for (Node n : nodes) {
            for (Value v : n.inputs()) {
                if (v != null) {
                    byName.putIfAbsent(v.name(), v);
                    consumers.computeIfAbsent(v, k -> new ArrayList<>()).add(n);
                }
            }
            for (Value v : n.outputs()) {
                byName.put(v.name(), v);
                producers.put(v, n);
            }
        }
        this.values = Collections.unmodifiableMap(byName);
    }

    public String name() {
        return name;
    }

    public List<Value> inputs() {
        return inputs;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public List<Output> outputs() {
        return outputs;
    }

    /** The first non-auxiliary output: the logits, or the features of a headless network. */
    public Value mainOutput() {
        return outputs.stream().filter(o -> !o.auxiliary()).findFirst().orElseThrow().value();
    }

    /** Parameters and state, in the order they were created. */
    public Map<String, Parameter> parameters() {
        return parameters;
    }

    /** Constant data by value name. */
    public Map<String, Tensor> constants() {
        return constants;
    }

    /**
     * The feature stages its builder marked (timm's {@code feature_info}): in a network built with
     * its classifier, the maps a feature extraction could output; in one built for its features
     * only, the stages it outputs.
     */
    public List<FeatureStage> featureStages() {
        return featureStages;
    }

    /** Whether the outputs are feature stages named after them (a network built for its features only). */
    public boolean outputsFeatureStages() {
        return !featureStages.isEmpty() && outputs.stream().allMatch(o -> featureStages.stream()
                .anyMatch(s -> s.value() == o.value() && s.name().equals(o.name())));
    }

    /**
     * This feature-stage graph with only the stages numbered {@code numbers} (1 for {@code stage1}),
     * in that order, as outputs and as feature stages; what they do not need is pruned.
     */
    public Graph selectFeatureStages(List<Integer> numbers) {
        if (!outputsFeatureStages()) {
            throw new IllegalStateException("graph " + name + " does not output its feature stages");
        }
        List<FeatureStage> kept = new ArrayList<>();
        List<Output> outs = new ArrayList<>();
        for (int n : numbers) {
            if (n < 1 || n > featureStages.size()) {
                throw new IllegalArgumentException("graph " + name + " has feature stages 1 to " + featureStages.size() + ", not " + n);
            }
            FeatureStage s = featureStages.get(n - 1);
            kept.add(s);
            outputs.stream().filter(o -> o.value() == s.value()).forEach(outs::add);
        }
        return pruned(nodes, outs, kept);
    }

    public Value value(String valueName) {
        return values.get(valueName);
    }

    /** The node computing {@code v}, or null for inputs, weights and constants. */
    public Node producer(Value v) {
        return producers.get(v);
    }

    public List<Node> consumers(Value v) {
        return consumers.getOrDefault(v, List.of());
    }

    /** Number of trainable scalars: what torchvision's {@code sum(p.numel() for p in parameters())} counts. */
    public long trainableParameterCount() {
        return parameters.values().stream().filter(Parameter::trainable).mapToLong(p -> p.shape().elements()).sum();
    }

    /**
     * The graph as it is deployed: dropout removed, auxiliary outputs removed unless {@code keepAuxiliary},
     * and whatever no kept output depends on pruned.
     */
    public Graph inferenceForm(boolean keepAuxiliary) {
        Map<Value, Value> replaced = new IdentityHashMap<>();
        List<Node> kept = new ArrayList<>();
        for (Node n : nodes) {
            List<Value> ins = n.inputs().stream().map(v -> v == null ? null : replaced.getOrDefault(v, v)).toList();
            if (n.is(Op.DROPOUT)) {
                replaced.put(n.output(), ins.get(0));
                continue;
            }
            kept.add(new Node(n.name(), n.operator(), ins, n.outputs(), n.attributes(), n.layer()));
        }
        List<Output> outs = new ArrayList<>();
        for (Output o : outputs) {
            if (o.auxiliary() && !keepAuxiliary) {
                continue;
            }
            Value v = o.value();
            if (replaced.containsKey(v)) {
                // A dropout was the last op: keep the output's name with an Identity.
                Node id = new Node(v.name() + "/" + Op.IDENTITY.opType(), Op.IDENTITY, List.of(replaced.get(v)), List.of(v), Attributes.none(),
                        producers.get(v).layer());
                kept.add(id);
            }
            outs.add(o);
        }
        return pruned(kept, outs, featureStages);
    }

    /**
     * This graph without the nodes, weights and constants that {@code outputs} do not depend on,
     * and without the feature stages they do not compute.
     */
    Graph pruned(List<Node> candidateNodes, List<Output> keptOutputs, List<FeatureStage> stages) {
        Set<Value> needed = Collections.newSetFromMap(new IdentityHashMap<>());
        keptOutputs.forEach(o -> needed.add(o.value()));
        List<Node> reversed = new ArrayList<>();
        for (int i = candidateNodes.size() - 1; i >= 0; i--) {
            Node n = candidateNodes.get(i);
            if (n.outputs().stream().anyMatch(needed::contains)) {
                reversed.add(n);
                n.inputs().stream().filter(v -> v != null).forEach(needed::add);
            }
        }
        Collections.reverse(reversed);
        Map<String, Parameter> params = new LinkedHashMap<>();
        parameters.forEach((k, p) -> {
            if (needed.contains(p.value())) {
                params.put(k, p);
            }
        });
        Map<String, Tensor> consts = new LinkedHashMap<>();
        Set<String> neededNames = new HashSet<>();
        needed.forEach(v -> neededNames.add(v.name()));
        constants.forEach((k, t) -> {
            if (neededNames.contains(k)) {
                consts.put(k, t);
            }
        });
        List<FeatureStage> computed = stages.stream().filter(s -> needed.contains(s.value())).toList();
        return new Graph(name, inputs, reversed, keptOutputs, params, consts, computed);
    }

    @Override
    public String toString() {
        return "Graph(" + name + ", " + nodes.size() + " nodes, " + parameters.size() + " weights)";
    }
}
